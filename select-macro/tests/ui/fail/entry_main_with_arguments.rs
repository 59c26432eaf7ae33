#[waza::main]
async fn main(count: u32) {
    let _ = count + 1;
}
