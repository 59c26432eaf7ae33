#[waza::test(detect_deadlock = "yes")]
async fn t() {}

fn main() {}
