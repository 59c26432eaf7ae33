//! "First response wins": ask every replica at once and take the first answer.
//!
//! The Go originals (the talk's references and "Go Concurrency Patterns", 2012):
//!
//! ```go
//! func Query(conns []Conn, query string) Result {
//!     ch := make(chan Result, len(conns)) // buffered: the losers never block
//!     for _, conn := range conns {
//!         go func(c Conn) {
//!             ch <- c.DoQuery(query)
//!         }(conn)
//!     }
//!     return <-ch
//! }
//!
//! // Google Search 3.0: replicated back ends, and a deadline for the whole search.
//! c := make(chan Result)
//! go func() { c <- First(query, Web1, Web2) }()
//! go func() { c <- First(query, Image1, Image2) }()
//! go func() { c <- First(query, Video1, Video2) }()
//! timeout := time.After(80 * time.Millisecond)
//! for i := 0; i < 3; i++ {
//!     select {
//!     case result := <-c:
//!         results = append(results, result)
//!     case <-timeout:
//!         fmt.Println("timed out")
//!         return
//!     }
//! }
//! ```
//!
//! The channel in [`first`] has room for every replica's answer, so the replicas that lose
//! the race still finish their send and exit instead of waiting forever for a reader.

use std::time::Duration;

use waza::chan;
use waza::time;

use crate::{Out, Rng};

/// A fake back-end server that answers after a fixed latency.
#[derive(Clone, Debug)]
pub struct Replica {
    /// Its name, which appears in its answers.
    pub name: String,
    /// How long it takes to answer.
    pub latency: Duration,
}

impl Replica {
    /// A replica called `name` that answers after `latency`.
    pub fn new(name: impl Into<String>, latency: Duration) -> Self {
        Replica {
            name: name.into(),
            latency,
        }
    }

    /// Answers `query` after this replica's latency.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future just abandons the fake query.
    pub async fn query(&self, query: &str) -> String {
        time::sleep(self.latency).await;
        format!("{} result for {query:?}", self.name)
    }
}

/// Starts one task per replica; each sends its answer into a channel with room for all.
fn launch(replicas: &[Replica], query: &str) -> chan::Receiver<String> {
    let (tx, rx) = chan::bounded(replicas.len());
    for replica in replicas {
        let (tx, replica, query) = (tx.clone(), replica.clone(), query.to_owned());
        waza::go!(async move {
            let _ = tx.send(replica.query(&query).await).await;
        });
    }
    rx
}

/// Queries every replica concurrently and returns the first answer.
///
/// # Panics
///
/// Panics if `replicas` is empty.
///
/// # Cancel safety
///
/// Cancel safe: the replicas' answers go into a buffer with room for all, so the replica
/// tasks finish even if nobody reads.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza_examples::query::{first, Replica};
///
/// let replicas = [Replica::new("web1", Duration::ZERO)];
/// let answer = waza::block_on(first(&replicas, "golang"));
/// assert_eq!(answer, "web1 result for \"golang\"");
/// ```
pub async fn first(replicas: &[Replica], query: &str) -> String {
    assert!(!replicas.is_empty(), "first() needs at least one replica");
    let answers = launch(replicas, query);
    answers
        .recv()
        .await
        .expect("the senders are alive until they answer")
}

/// Like [`first`], but gives up after `timeout` and returns `None`.
///
/// # Cancel safety
///
/// Cancel safe, as [`first`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza_examples::query::{first_within, Replica};
///
/// let slow = [Replica::new("slow", Duration::from_secs(60))];
/// let answer = waza::block_on(first_within(&slow, "golang", Duration::from_millis(10)));
/// assert_eq!(answer, None);
/// ```
pub async fn first_within(replicas: &[Replica], query: &str, timeout: Duration) -> Option<String> {
    let answers = launch(replicas, query);
    let deadline = time::after(timeout);
    waza::select! {
        Some(answer) = answers.recv() => Some(answer),
        _ = deadline.recv() => None,
    }
}

/// Google Search 3.0: web, image and video searches, each replicated twice with random
/// latencies under 100 ms, gathered under one 80 ms deadline. Returns what arrived in time.
///
/// # Cancel safety
///
/// Cancel safe: each search task's send fails once the receiver is dropped, and it exits.
pub async fn google(query: &str, seed: u64, out: &Out) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let (tx, rx) = chan::rendezvous();
    for kind in ["web", "image", "video"] {
        let replicas: Vec<_> = (1..=2)
            .map(|i| Replica::new(format!("{kind}{i}"), rng.millis(100)))
            .collect();
        let (tx, query) = (tx.clone(), query.to_owned());
        waza::go!(async move {
            let _ = tx.send(first(&replicas, &query).await).await;
        });
    }
    drop(tx);
    let timeout = time::after(Duration::from_millis(80));
    let mut results = Vec::new();
    while results.len() < 3 {
        let next = waza::select! {
            Some(result) = rx.recv() => Some(result),
            _ = timeout.recv() => None,
        };
        match next {
            Some(result) => results.push(result),
            None => {
                out.line("timed out");
                break;
            }
        }
    }
    for r in &results {
        out.line(r.clone());
    }
    results
}
