//! "First response wins": replicated queries, with and without a deadline, then Google
//! Search 3.0. See `waza_examples::query`.

use std::time::Duration;

use waza_examples::query::{first, first_within, google, Replica};
use waza_examples::Out;

#[waza::main]
async fn main() {
    let ms = Duration::from_millis;
    let replicas = [
        Replica::new("replica-1", ms(120)),
        Replica::new("replica-2", ms(30)),
        Replica::new("replica-3", ms(75)),
    ];
    println!("first answer: {}", first(&replicas, "golang").await);
    match first_within(&replicas, "golang", ms(10)).await {
        Some(answer) => println!("within 10 ms: {answer}"),
        None => println!("within 10 ms: timed out"),
    }
    println!("Google Search 3.0:");
    google("golang", 7, &Out::stdout()).await;
}
