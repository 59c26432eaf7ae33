#[waza::main(workers = 2, worker_threads = 3)]
async fn main() {}
