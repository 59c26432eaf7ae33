use std::error::Error;

#[waza::main(workers = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let h = waza::spawn(async { 40 + 2 });
    assert_eq!(h.await?, 42);
    let n: u32 = "7".parse()?;
    assert_eq!(n, 7);
    Ok(())
}
