//! Google Search 1.0 → 3.0: fake web, image and video back-ends with random latency, asked
//! sequentially (1.0), concurrently (2.0), concurrently with a deadline for the whole search
//! (2.1), and concurrently with two replicas of each back-end, the first reply winning
//! (3.0). Each version runs many queries and prints its latency distribution.
//!
//! The Go originals ("Go Concurrency Patterns", 2012):
//!
//! ```go
//! func fakeSearch(kind string) Search {
//!     return func(query string) Result {
//!         time.Sleep(time.Duration(rand.Intn(100)) * time.Millisecond)
//!         return Result(fmt.Sprintf("%s result for %q\n", kind, query))
//!     }
//! }
//!
//! func Google(query string) (results []Result) { // 1.0
//!     results = append(results, Web(query))
//!     results = append(results, Image(query))
//!     results = append(results, Video(query))
//!     return
//! }
//!
//! func Google(query string) (results []Result) { // 2.0
//!     c := make(chan Result)
//!     go func() { c <- Web(query) }()
//!     go func() { c <- Image(query) }()
//!     go func() { c <- Video(query) }()
//!     for i := 0; i < 3; i++ {
//!         result := <-c
//!         results = append(results, result)
//!     }
//!     return
//! }
//!
//! timeout := time.After(80 * time.Millisecond) // 2.1: replaces 2.0's loop
//! for i := 0; i < 3; i++ {
//!     select {
//!     case result := <-c:
//!         results = append(results, result)
//!     case <-timeout:
//!         fmt.Println("timed out")
//!         return
//!     }
//! }
//!
//! func First(query string, replicas ...Search) Result {
//!     c := make(chan Result)
//!     searchReplica := func(i int) { c <- replicas[i](query) }
//!     for i := range replicas {
//!         go searchReplica(i)
//!     }
//!     return <-c
//! }
//!
//! go func() { c <- First(query, Web1, Web2) }() // 3.0: 2.1 with replicated back-ends
//! go func() { c <- First(query, Image1, Image2) }()
//! go func() { c <- First(query, Video1, Video2) }()
//! ```
//!
//! In Go, the replicas that lose the race in `First`, and the searches that miss the 2.1
//! deadline, stay blocked on their send forever (a goroutine leak). Here the receiver is
//! dropped when the function returns, their sends fail, and they exit.

use std::fmt;
use std::time::{Duration, Instant};

use waza::chan;
use waza::time;

use crate::cli::ensure;
use crate::{Out, Rng, Size};

/// The three kinds of search.
pub const KINDS: [&str; 3] = ["web", "image", "video"];

/// A fake back-end server that answers after a fixed latency.
#[derive(Clone, Debug)]
pub struct Search {
    /// Its name, which starts with its kind and appears in its answers, e.g. `"web2"`.
    pub name: String,
    /// How long it takes to answer.
    pub latency: Duration,
}

impl Search {
    /// A back-end called `name` that answers after `latency`.
    pub fn new(name: impl Into<String>, latency: Duration) -> Self {
        Search {
            name: name.into(),
            latency,
        }
    }

    /// Answers `query` after this back-end's latency.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future just abandons the fake query.
    pub async fn call(&self, query: &str) -> String {
        time::sleep(self.latency).await;
        format!("{} result for {query:?}", self.name)
    }
}

/// Go's `First`: asks every replica at once and returns the first answer; the others'
/// sends fail when the channel is dropped, and their tasks exit.
///
/// # Panics
///
/// Panics if `replicas` is empty.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future drops the channel; the replica tasks then stop.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza_examples::google_search::{first, Search};
///
/// let replicas = [
///     Search::new("web1", Duration::from_secs(60)),
///     Search::new("web2", Duration::ZERO),
/// ];
/// let answer = waza::block_on(first("golang", &replicas));
/// assert_eq!(answer, "web2 result for \"golang\"");
/// ```
pub async fn first(query: &str, replicas: &[Search]) -> String {
    assert!(!replicas.is_empty(), "first() needs at least one replica");
    let (c, rx) = chan::rendezvous();
    for replica in replicas {
        let (c, replica, query) = (c.clone(), replica.clone(), query.to_owned());
        waza::go!(async move {
            let _ = c.send(replica.call(&query).await).await;
        });
    }
    rx.recv().await.expect("a replica answers")
}

/// The back-ends one query sees: two replicas of each kind, with random latencies below
/// `max_latency` (Go's `rand.Intn(100)` milliseconds).
#[derive(Clone, Debug)]
pub struct Backends {
    /// `replicas[k]` holds the two replicas of `KINDS[k]`.
    pub replicas: [[Search; 2]; 3],
}

impl Backends {
    /// Draws the latencies from `Rng::new(seed)`.
    pub fn random(seed: u64, max_latency: Duration) -> Backends {
        let mut rng = Rng::new(seed);
        let max = max_latency.as_millis() as u64;
        let replicas =
            KINDS.map(|kind| [1, 2].map(|i| Search::new(format!("{kind}{i}"), rng.millis(max))));
        Backends { replicas }
    }

    /// The first replica of every kind (the unreplicated back-ends of 1.0 – 2.1).
    fn primaries(&self) -> [Search; 3] {
        self.replicas.clone().map(|[one, _]| one)
    }
}

/// Google Search 1.0: one back-end after the other.
///
/// # Cancel safety
///
/// Cancel safe.
pub async fn google_1_0(query: &str, b: &Backends) -> Vec<String> {
    let mut results = Vec::new();
    for search in b.primaries() {
        results.push(search.call(query).await);
    }
    results
}

/// Starts one task per search, each sending its answer on the returned channel.
fn launch<F>(searches: Vec<F>) -> chan::Receiver<String>
where
    F: std::future::Future<Output = String> + Send + 'static,
{
    let (c, rx) = chan::rendezvous();
    for search in searches {
        let c = c.clone();
        waza::go!(async move {
            let _ = c.send(search.await).await;
        });
    }
    rx
}

/// Google Search 2.0: all back-ends at once, results in arrival order.
///
/// # Cancel safety
///
/// Cancel safe: the search tasks stop when the channel is dropped.
pub async fn google_2_0(query: &str, b: &Backends) -> Vec<String> {
    let c = launch(
        b.primaries()
            .map(|s| {
                let q = query.to_owned();
                async move { s.call(&q).await }
            })
            .into(),
    );
    let mut results = Vec::new();
    for _ in 0..3 {
        results.push(c.recv().await.expect("every search answers"));
    }
    results
}

/// Receives up to three results from `c` until `timeout` passes (2.1 and 3.0's loop).
async fn gather(c: chan::Receiver<String>, timeout: Duration) -> Vec<String> {
    let timeout = time::after(timeout);
    let mut results = Vec::new();
    for _ in 0..3 {
        waza::select! {
            Some(result) = c.recv() => results.push(result),
            _ = timeout.recv() => break, // "timed out"
        }
    }
    results
}

/// Google Search 2.1: 2.0 with a deadline for the whole search; returns what arrived.
///
/// # Cancel safety
///
/// Cancel safe: the search tasks stop when the channel is dropped.
pub async fn google_2_1(query: &str, b: &Backends, timeout: Duration) -> Vec<String> {
    let c = launch(
        b.primaries()
            .map(|s| {
                let q = query.to_owned();
                async move { s.call(&q).await }
            })
            .into(),
    );
    gather(c, timeout).await
}

/// Google Search 3.0: 2.1 with two replicas of each back-end, the first reply winning.
///
/// # Cancel safety
///
/// Cancel safe: the search tasks stop when the channel is dropped.
pub async fn google_3_0(query: &str, b: &Backends, timeout: Duration) -> Vec<String> {
    let c = launch(
        b.replicas
            .clone()
            .map(|replicas| {
                let q = query.to_owned();
                async move { first(&q, &replicas).await }
            })
            .into(),
    );
    gather(c, timeout).await
}

/// The four versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// Sequential.
    V1_0,
    /// Fan-in.
    V2_0,
    /// Fan-in with a deadline.
    V2_1,
    /// Replicated back-ends, first reply wins, with a deadline.
    V3_0,
}

impl Version {
    /// All four, in the talk's order.
    pub const ALL: [Version; 4] = [Version::V1_0, Version::V2_0, Version::V2_1, Version::V3_0];

    /// Runs this version of the search for `query` against `b`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn search(self, query: &str, b: &Backends, timeout: Duration) -> Vec<String> {
        match self {
            Version::V1_0 => google_1_0(query, b).await,
            Version::V2_0 => google_2_0(query, b).await,
            Version::V2_1 => google_2_1(query, b, timeout).await,
            Version::V3_0 => google_3_0(query, b, timeout).await,
        }
    }

    fn has_deadline(self) -> bool {
        matches!(self, Version::V2_1 | Version::V3_0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V1_0 => "1.0 sequential      ",
            Version::V2_0 => "2.0 fan-in          ",
            Version::V2_1 => "2.1 + timeout       ",
            Version::V3_0 => "3.0 + replicas      ",
        })
    }
}

/// One query's outcome.
#[derive(Clone, Debug)]
pub struct Answer {
    /// How long the search took.
    pub latency: Duration,
    /// The results, in arrival order.
    pub results: Vec<String>,
}

/// Runs `queries` searches of `version` concurrently, query `i` against
/// `Backends::random(i, max_latency)`, and returns their answers in query order.
///
/// # Panics
///
/// Panics if a search task panics.
///
/// # Cancel safety
///
/// Dropping the future detaches the searches; each finishes by itself.
pub async fn measure(
    version: Version,
    queries: u64,
    max_latency: Duration,
    timeout: Duration,
) -> Vec<Answer> {
    let tasks: Vec<_> = (0..queries)
        .map(|i| {
            waza::go!(async move {
                let b = Backends::random(i, max_latency);
                let start = Instant::now();
                let results = version.search("golang", &b, timeout).await;
                Answer {
                    latency: start.elapsed(),
                    results,
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("searches do not panic"));
    }
    answers
}

/// Checks one answer: at most one result per kind, from a known back-end, for the query;
/// all three unless the version has a deadline.
///
/// # Errors
///
/// What is wrong with the answer.
pub fn check(version: Version, answer: &Answer) -> Result<(), String> {
    let results = &answer.results;
    for kind in KINDS {
        let n = results.iter().filter(|r| r.starts_with(kind)).count();
        ensure(n == 1 || (n == 0 && version.has_deadline()), || {
            format!("{version}: {n} {kind} results in {results:?}")
        })?;
    }
    let known = |r: &String| {
        KINDS.iter().any(|k| {
            ["1", "2"]
                .iter()
                .any(|i| *r == format!("{k}{i} result for \"golang\""))
        })
    };
    ensure(results.iter().all(known), || {
        format!("{version}: unexpected results {results:?}")
    })?;
    ensure(
        version == Version::V3_0
            || results
                .iter()
                .all(|r| r.split(' ').next().is_some_and(|name| name.ends_with('1'))),
        || format!("{version}: a replica answered without replication: {results:?}"),
    )
}

/// The latency distribution of `answers`, as one line: percentiles and complete answers.
pub fn distribution(answers: &[Answer]) -> String {
    let mut ms: Vec<f64> = answers
        .iter()
        .map(|a| a.latency.as_secs_f64() * 1e3)
        .collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    let complete = answers.iter().filter(|a| a.results.len() == 3).count();
    format!(
        "p10 {:5.1} ms  p50 {:5.1} ms  p90 {:5.1} ms  max {:5.1} ms  complete {complete}/{}",
        pct(0.1),
        pct(0.5),
        pct(0.9),
        pct(1.0),
        answers.len()
    )
}

/// The whole program: 100 queries per version (latencies under 100 ms, an 80 ms deadline);
/// quick: 20 queries, latencies under 20 ms, a 16 ms deadline. Prints each version's
/// latency distribution and checks every answer's results (not its timing).
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// Dropping the future detaches the searches; each finishes by itself.
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let queries = size.pick(20, 100);
    let max_latency = Duration::from_millis(size.pick(20, 100));
    let timeout = max_latency * 4 / 5;
    out.line(format!(
        "{queries} queries per version; back-ends answer in 0..{max_latency:?}; \
         deadline {timeout:?}"
    ));
    let example = Backends::random(0, max_latency);
    let answer = google_3_0("golang", &example, timeout).await;
    out.line(format!("3.0 for \"golang\": {answer:?}"));
    for version in Version::ALL {
        let answers = measure(version, queries, max_latency, timeout).await;
        for a in &answers {
            check(version, a)?;
        }
        out.line(format!("{version}{}", distribution(&answers)));
    }
    Ok(())
}
