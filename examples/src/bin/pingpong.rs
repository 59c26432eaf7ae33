//! Ping-pong: two tasks hit one ball back and forth over a rendezvous channel, 10 hits,
//! 100 ms apart. See `waza_examples::pingpong`.

use std::time::Duration;

use waza_examples::{pingpong, Out};

#[waza::main]
async fn main() {
    pingpong::game(10, Duration::from_millis(100), &Out::stdout()).await;
}
