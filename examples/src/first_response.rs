//! "First response wins" without leaking the losers: ask every replica at once, take the
//! first answer, and let the others finish — either by a non-blocking send (`select!` with
//! `default`) into a one-slot buffer, or by a buffer with room for every answer.
//!
//! The Go original ("Concurrency is not parallelism", 2012, the closing example):
//!
//! ```go
//! func Query(conns []Conn, query string) Result {
//!     ch := make(chan Result, 1)
//!     for _, conn := range conns {
//!         go func(c Conn) {
//!             select {
//!             case ch <- c.DoQuery(query):
//!             default:
//!             }
//!         }(conn)
//!     }
//!     return <-ch
//! }
//! ```
//!
//! and its buffered variant, `ch := make(chan Result, len(conns))` with a plain `ch <- …`.
//! With the first, the losers find the slot full and drop their answer; with the second,
//! their answers wait in the buffer until it is dropped. In both, no replica ever blocks.

use std::time::Duration;

use waza::chan;

use crate::cli::ensure;
use crate::google_search::Search;
use crate::{Out, Rng, Size};

/// How the replicas of one query fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The answer returned.
    pub answer: String,
    /// Replicas whose answer went into the channel.
    pub delivered: usize,
    /// Replicas that dropped their answer (the slot was taken).
    pub dropped: usize,
}

/// How the replicas hand over their answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handover {
    /// A one-slot channel and a `select!` send with `default`: losers drop their answer.
    SelectDefault,
    /// A channel with room for every answer and a plain send.
    Buffered,
}

/// Queries every replica; returns the first answer once every replica task has finished
/// (which none of them waits for: the point of the example).
///
/// # Panics
///
/// Panics if `replicas` is empty or a replica task panics.
///
/// # Cancel safety
///
/// Cancel safe: the replicas never block, so they finish by themselves.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza_examples::first_response::{query, Handover};
/// use waza_examples::google_search::Search;
///
/// let replicas = [Search::new("db1", Duration::ZERO), Search::new("db2", Duration::ZERO)];
/// let o = waza::block_on(query(&replicas, "q", Handover::SelectDefault));
/// assert_eq!(o.delivered + o.dropped, 2);
/// ```
pub async fn query(replicas: &[Search], query: &str, how: Handover) -> Outcome {
    assert!(!replicas.is_empty(), "query() needs at least one replica");
    let cap = match how {
        Handover::SelectDefault => 1,
        Handover::Buffered => replicas.len(),
    };
    let (ch, answers) = chan::bounded(cap);
    let tasks: Vec<_> = replicas
        .iter()
        .map(|conn| {
            let (ch, conn, query) = (ch.clone(), conn.clone(), query.to_owned());
            waza::go!(async move {
                let result = conn.call(&query).await;
                match how {
                    Handover::SelectDefault => waza::select! {
                        res = ch.send(result) => res.is_ok(),
                        default => false,
                    },
                    Handover::Buffered => ch.send(result).await.is_ok(),
                }
            })
        })
        .collect();
    drop(ch);
    let answer = answers
        .recv()
        .await
        .expect("the first replica's send succeeds");
    let mut delivered = 0;
    for t in tasks {
        delivered += usize::from(t.await.expect("replicas do not panic"));
    }
    Outcome {
        answer,
        delivered,
        dropped: replicas.len() - delivered,
    }
}

/// Runs `rounds` queries against three replicas with random latencies below `max` and
/// checks every outcome.
async fn rounds(how: Handover, rounds: u64, max: u64, out: &Out) -> Result<(), String> {
    let (mut delivered, mut dropped) = (0, 0);
    let mut rng = Rng::new(5);
    for _ in 0..rounds {
        let replicas: Vec<_> = (1..=3)
            .map(|i| Search::new(format!("db{i}"), rng.millis(max)))
            .collect();
        let o = query(&replicas, "golang", how).await;
        ensure(o.answer.starts_with("db"), || format!("{o:?}"))?;
        ensure(o.delivered + o.dropped == 3 && o.delivered >= 1, || {
            format!("{how:?}: {o:?}")
        })?;
        ensure(how == Handover::SelectDefault || o.dropped == 0, || {
            format!("a buffered send was dropped: {o:?}")
        })?;
        delivered += o.delivered;
        dropped += o.dropped;
    }
    out.line(format!(
        "{how:?}: {rounds} queries x 3 replicas; {delivered} answers delivered, \
         {dropped} dropped, every replica finished"
    ));
    Ok(())
}

/// The whole program: 20 queries (5 quick) with each handover; checks that every query got
/// an answer, that no replica task was left behind, and that the buffered handover never
/// dropped an answer.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// Cancel safe.
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let ms = Duration::from_millis;
    let replicas = [
        Search::new("db1", ms(30)),
        Search::new("db2", ms(5)),
        Search::new("db3", ms(15)),
    ];
    let o = query(&replicas, "golang", Handover::SelectDefault).await;
    out.line(format!("first answer: {}", o.answer));
    let n = size.pick(5, 20);
    rounds(Handover::SelectDefault, n, 5, out).await?;
    rounds(Handover::Buffered, n, 5, out).await
}
