//! Stopping a generator: a quit channel, and the round trip in which the generator cleans
//! up and answers on the quit channel before it returns.
//!
//! The Go originals ("Go Concurrency Patterns", 2012):
//!
//! ```go
//! quit := make(chan bool)
//! c := boring("Joe", quit)
//! for i := rand.Intn(10); i >= 0; i-- { fmt.Println(<-c) }
//! quit <- true
//!
//! // in boring():
//! select {
//! case c <- fmt.Sprintf("%s: %d", msg, i):
//!     // do nothing
//! case <-quit:
//!     return
//! }
//!
//! // Receive on quit channel: round trip.
//! quit := make(chan string)
//! c := boring("Joe", quit)
//! for i := rand.Intn(10); i >= 0; i-- { fmt.Println(<-c) }
//! quit <- "Bye!"
//! fmt.Printf("Joe says: %q\n", <-quit)
//!
//! // in boring():
//! select {
//! case c <- fmt.Sprintf("%s: %d", msg, i):
//!     // do nothing
//! case <-quit:
//!     cleanup()
//!     quit <- "See you!"
//!     return
//! }
//! ```
//!
//! Both channels are rendezvous channels and a losing `select!` arm has no effect, so the
//! generator's count of messages sent is exactly the count main received.

use std::time::Duration;

use waza::chan::{self, Receiver, Sender};
use waza::time;

use crate::cli::ensure;
use crate::{Out, Rng, Size};

/// A generator that talks on the returned channel until told to quit on `quit`; its task
/// returns how many messages it sent.
pub fn boring_until_quit(
    msg: &'static str,
    pause: Duration,
    quit: Receiver<()>,
) -> (Receiver<String>, waza::JoinHandle<u64>) {
    let (c, rx) = chan::rendezvous();
    let task = waza::go!(async move {
        let mut sent = 0;
        loop {
            waza::select! {
                res = c.send(format!("{msg} {sent}")) => match res {
                    Ok(()) => sent += 1,
                    Err(_) => return sent,
                },
                _ = quit.recv() => return sent,
            }
            time::sleep(pause).await;
        }
    });
    (rx, task)
}

/// What the round-trip generator did when told to quit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Goodbye {
    /// Messages it sent before quitting.
    pub sent: u64,
    /// What main said on the quit channel.
    pub heard: String,
    /// Whether it cleaned up before answering.
    pub cleaned_up: bool,
}

/// The round-trip generator: on a message on `quit` it cleans up, answers `"See you!"` on
/// the same channel and returns.
pub fn boring_round_trip(
    msg: &'static str,
    pause: Duration,
    quit: (Sender<String>, Receiver<String>),
) -> (Receiver<String>, waza::JoinHandle<Goodbye>) {
    let (c, rx) = chan::rendezvous();
    let (quit_tx, quit_rx) = quit;
    let task = waza::go!(async move {
        let mut sent = 0;
        loop {
            waza::select! {
                res = c.send(format!("{msg} {sent}")) => match res {
                    Ok(()) => sent += 1,
                    Err(_) => break, // nobody listens: leave without a goodbye
                },
                Some(heard) = quit_rx.recv() => {
                    let cleaned_up = cleanup().await;
                    let _ = quit_tx.send("See you!".to_owned()).await;
                    return Goodbye { sent, heard, cleaned_up };
                }
            }
            time::sleep(pause).await;
        }
        Goodbye {
            sent,
            heard: String::new(),
            cleaned_up: false,
        }
    });
    (rx, task)
}

/// Stands in for closing files, flushing buffers, …
async fn cleanup() -> bool {
    waza::yield_now().await;
    true
}

/// Hears `n` messages from `c`, writing them to `out` on one line.
async fn listen(c: &Receiver<String>, n: u64, out: &Out) -> Result<(), String> {
    let mut heard = Vec::new();
    for i in 0..n {
        let s = c.recv().await.ok_or("the generator stopped early")?;
        ensure(s == format!("Joe {i}"), || {
            format!("expected Joe {i}, got {s}")
        })?;
        heard.push(s);
    }
    out.line(format!("  heard: {}", heard.join(", ")));
    Ok(())
}

/// The whole program: hear a random number (1..=10) of messages, then quit; then the same
/// with the round trip. Checks the generator sent exactly what was heard and said goodbye.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// Dropping the future drops the channels; the generators then stop.
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let pause = Duration::from_millis(size.pick(1, 20));
    let mut rng = Rng::new(11);

    let n = rng.below(10) + 1;
    out.line(format!("quit after {n} messages:"));
    let (quit_tx, quit_rx) = chan::rendezvous();
    let (c, joe) = boring_until_quit("Joe", pause, quit_rx);
    listen(&c, n, out).await?;
    quit_tx.send(()).await.map_err(|_| "Joe left early")?;
    let sent = joe.await.map_err(|e| e.to_string())?;
    out.line(format!("Joe sent {sent} messages and quit"));
    ensure(sent == n, || format!("Joe sent {sent}, main heard {n}"))?;

    let n = rng.below(10) + 1;
    out.line(format!("round trip after {n} messages:"));
    let (quit_tx, quit_rx) = chan::rendezvous();
    let (c, joe) = boring_round_trip("Joe", pause, (quit_tx.clone(), quit_rx.clone()));
    listen(&c, n, out).await?;
    quit_tx
        .send("Bye!".to_owned())
        .await
        .map_err(|_| "Joe left early")?;
    let reply = quit_rx.recv().await.ok_or("Joe left without a word")?;
    out.line(format!("Joe says: {reply:?}"));
    let bye = joe.await.map_err(|e| e.to_string())?;
    ensure(reply == "See you!", || format!("Joe said {reply:?}"))?;
    ensure(bye.heard == "Bye!" && bye.cleaned_up, || format!("{bye:?}"))?;
    ensure(bye.sent == n, || {
        format!("Joe sent {}, main heard {n}", bye.sent)
    })
}
