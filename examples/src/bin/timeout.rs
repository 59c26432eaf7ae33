//! Timeouts with `select!`: a speaker that slows down until a per-message timeout fires,
//! then a chatty one cut off after one second. See `waza_examples::boring`.

use std::time::Duration;

use waza_examples::{boring, Out};

#[waza::main]
async fn main() {
    boring::run(Duration::from_secs(1), &Out::stdout()).await;
}
