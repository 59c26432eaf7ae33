//! Timeouts with `select!`: a chatty generator, cut off per message and per conversation.
//!
//! The Go originals ("Go Concurrency Patterns", 2012):
//!
//! ```go
//! func boring(msg string) <-chan string { // returns a receive-only channel
//!     c := make(chan string)
//!     go func() {
//!         for i := 0; ; i++ {
//!             c <- fmt.Sprintf("%s %d", msg, i)
//!             time.Sleep(time.Duration(rand.Intn(1e3)) * time.Millisecond)
//!         }
//!     }()
//!     return c
//! }
//!
//! // Timeout for each message:
//! for {
//!     select {
//!     case s := <-c:
//!         fmt.Println(s)
//!     case <-time.After(1 * time.Second):
//!         fmt.Println("You're too slow.")
//!         return
//!     }
//! }
//!
//! // Timeout for the whole conversation:
//! timeout := time.After(5 * time.Second)
//! for {
//!     select {
//!     case s := <-c:
//!         fmt.Println(s)
//!     case <-timeout:
//!         fmt.Println("You talk too much.")
//!         return
//!     }
//! }
//! ```

use std::time::Duration;

use waza::chan::{self, Receiver};
use waza::time;

use crate::cli::ensure;
use crate::{Out, Rng, Size};

/// Starts a task that sends `"{msg} 0"`, `"{msg} 1"`, … pausing after message `i` for
/// `pause(i)`; it stops when the returned receiver is dropped.
pub fn boring(
    msg: &'static str,
    mut pause: impl FnMut(u64) -> Duration + Send + 'static,
) -> Receiver<String> {
    let (c, rx) = chan::rendezvous();
    waza::go!(async move {
        for i in 0u64.. {
            if c.send(format!("{msg} {i}")).await.is_err() {
                return;
            }
            time::sleep(pause(i)).await;
        }
    });
    rx
}

/// How a conversation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    /// The messages heard, in order.
    pub heard: Vec<String>,
    /// The closing remark ("You're too slow." or "You talk too much.").
    pub ending: &'static str,
}

/// Listens to `c` until one message takes longer than `patience` to arrive.
///
/// # Cancel safety
///
/// Dropping the future drops `c`: the speaker's next send fails and its task stops. Messages
/// already heard were written to `out`; none is half-received.
pub async fn per_message_timeout(
    c: Receiver<String>,
    patience: Duration,
    out: &Out,
) -> Conversation {
    let mut heard = Vec::new();
    loop {
        let next = waza::select! {
            s = c.recv() => s,
            _ = time::sleep(patience) => None,
        };
        match next {
            Some(s) => {
                out.line(s.clone());
                heard.push(s);
            }
            None => break,
        }
    }
    out.line("You're too slow.");
    Conversation {
        heard,
        ending: "You're too slow.",
    }
}

/// Listens to `c` until `total` has passed since the start, however chatty `c` is.
///
/// # Cancel safety
///
/// Dropping the future drops `c`: the speaker's next send fails and its task stops. Messages
/// already heard were written to `out`; none is half-received.
pub async fn whole_conversation_timeout(
    c: Receiver<String>,
    total: Duration,
    out: &Out,
) -> Conversation {
    let timeout = time::after(total);
    let mut heard = Vec::new();
    loop {
        let next = waza::select! {
            Some(s) = c.recv() => Some(s),
            _ = timeout.recv() => None,
        };
        let Some(s) = next else { break };
        out.line(s.clone());
        heard.push(s);
    }
    out.line("You talk too much.");
    Conversation {
        heard,
        ending: "You talk too much.",
    }
}

/// The whole program: first a speaker who slows down until it is too slow for a 50 ms
/// per-message timeout, then a steady speaker cut off after `total`.
///
/// # Cancel safety
///
/// Dropping the future drops the speakers' receivers, which stops the speaker tasks.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza_examples::{boring, Out};
///
/// let (slow, chatty) = waza::block_on(boring::run(Duration::from_millis(50), &Out::capture()));
/// assert_eq!(slow.ending, "You're too slow.");
/// assert_eq!(chatty.ending, "You talk too much.");
/// ```
pub async fn run(total: Duration, out: &Out) -> (Conversation, Conversation) {
    // Message i arrives after a 20·i ms pause: 0, 20, 40, then 60 ms is too slow.
    let slowing = boring("slowing down", |i| Duration::from_millis(20 * i));
    let slow = per_message_timeout(slowing, Duration::from_millis(50), out).await;
    let mut rng = Rng::new(1);
    let chatty = boring("boring!", move |_| rng.millis(20));
    let cut = whole_conversation_timeout(chatty, total, out).await;
    (slow, cut)
}

/// Checks that messages are `"{prefix} 0"`, `"{prefix} 1"`, … in order, none skipped.
fn check_numbered(heard: &[String], prefix: &str) -> Result<(), String> {
    for (i, s) in heard.iter().enumerate() {
        ensure(*s == format!("{prefix} {i}"), || {
            format!("message {i} was {s:?}")
        })?;
    }
    Ok(())
}

/// The whole program (the `timeout` binary): [`run`] with a one-second conversation (150 ms
/// quick). Checks each conversation's ending and that no message was lost or reordered.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// As [`run`].
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let total = Duration::from_millis(size.pick(150, 1000));
    let (slow, chatty) = run(total, out).await;
    ensure(slow.ending == "You're too slow.", || format!("{slow:?}"))?;
    ensure(chatty.ending == "You talk too much.", || {
        format!("{chatty:?}")
    })?;
    check_numbered(&slow.heard, "slowing down")?;
    check_numbered(&chatty.heard, "boring!")
}
