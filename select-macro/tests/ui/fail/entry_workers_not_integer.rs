#[waza::main(workers = "two")]
async fn main() {}
