// tokio options that waza does not have are named in the error; the function is still
// emitted (so `main` exists and there is no second error about it).
#[waza::main(worker_threads = 2, unhandled_panic = "shutdown_runtime")]
async fn main() {}

#[waza::test(rng_seed = 7)]
async fn seeded() {}
