#[waza::main]
fn main() {}
