//! The talk's load balancer: 16 requesters, 4 workers, 640 requests, each sent to the
//! least-loaded worker; prints how the load was spread. See `waza_examples::loadbalancer`.

use std::time::Instant;

use waza_examples::{loadbalancer, Out};

#[waza::main]
async fn main() {
    let start = Instant::now();
    loadbalancer::run(loadbalancer::Config::default(), &Out::stdout()).await;
    println!("(in {:.1?})", start.elapsed());
}
