#[waza::test(workers = 0)]
async fn zero_workers() {}

fn main() {}
