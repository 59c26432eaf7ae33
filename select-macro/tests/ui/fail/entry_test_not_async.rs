#[waza::test]
fn not_async() {}

fn main() {}
