//! Multiplexing: two chatty generators merged into one channel, so whoever is ready talks
//! first — first with one forwarding task per input, then with one `select!` loop; then
//! "restoring sequence", where each message carries a channel the generator waits on, so
//! the two take turns.
//!
//! The Go originals ("Go Concurrency Patterns", 2012):
//!
//! ```go
//! func fanIn(input1, input2 <-chan string) <-chan string {
//!     c := make(chan string)
//!     go func() { for { c <- <-input1 } }()
//!     go func() { for { c <- <-input2 } }()
//!     return c
//! }
//!
//! func fanIn(input1, input2 <-chan string) <-chan string { // with select
//!     c := make(chan string)
//!     go func() {
//!         for {
//!             select {
//!             case s := <-input1: c <- s
//!             case s := <-input2: c <- s
//!             }
//!         }
//!     }()
//!     return c
//! }
//!
//! func main() {
//!     c := fanIn(boring("Joe"), boring("Ann"))
//!     for i := 0; i < 10; i++ {
//!         fmt.Println(<-c)
//!     }
//!     fmt.Println("You're both boring; I'm leaving.")
//! }
//!
//! // Restoring sequence: send a channel on a channel, making a goroutine wait its turn.
//! type Message struct {
//!     str  string
//!     wait chan bool
//! }
//!
//! waitForIt := make(chan bool) // in boring(): shared between all its messages
//! c <- Message{fmt.Sprintf("%s: %d", msg, i), waitForIt}
//! time.Sleep(time.Duration(rand.Intn(2e3)) * time.Millisecond)
//! <-waitForIt
//!
//! for i := 0; i < 5; i++ { // in main
//!     msg1 := <-c; fmt.Println(msg1.str)
//!     msg2 := <-c; fmt.Println(msg2.str)
//!     msg1.wait <- true
//!     msg2.wait <- true
//! }
//! ```
//!
//! Go's forwarders run forever; here every task stops once the channel it sends on closes,
//! so when main drops `c` the fan-in stops, then the generators.

use std::time::Duration;

use waza::chan::{self, Receiver, Sender};
use waza::time;

use crate::boring::boring;
use crate::cli::ensure;
use crate::daemon::daemon;
use crate::{Out, Rng, Size};

/// Merges two channels with one forwarding task per input (each is a [`daemon`]).
pub fn fan_in_tasks<T: Send + 'static>(input1: Receiver<T>, input2: Receiver<T>) -> Receiver<T> {
    let (c, rx) = chan::rendezvous();
    waza::go!(daemon(input1, c.clone()));
    waza::go!(daemon(input2, c));
    rx
}

/// Merges two channels with one task that selects over both.
pub fn fan_in_select<T: Send + 'static>(input1: Receiver<T>, input2: Receiver<T>) -> Receiver<T> {
    let (c, rx) = chan::rendezvous();
    waza::go!(async move {
        loop {
            let s = waza::select! {
                s = input1.recv() => s,
                s = input2.recv() => s,
            };
            // A closed input (never, for boring generators) or a closed output ends the merge.
            let Some(s) = s else { return };
            if c.send(s).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// Two boring generators, "Joe" and "Ann", pausing up to `max_pause` between messages.
fn joe_and_ann(max_pause: Duration, seed: u64) -> (Receiver<String>, Receiver<String>) {
    let max = max_pause.as_millis() as u64;
    let (mut r1, mut r2) = (Rng::new(seed), Rng::new(seed + 1));
    (
        boring("Joe", move |_| r1.millis(max)),
        boring("Ann", move |_| r2.millis(max)),
    )
}

/// Receives `n` messages from `c`; writes them to `out` on one line after `title`.
async fn listen(title: &str, c: Receiver<String>, n: usize, out: &Out) -> Vec<String> {
    let mut heard = Vec::with_capacity(n);
    for _ in 0..n {
        heard.push(c.recv().await.expect("the generators never stop first"));
    }
    out.line(format!("{title}: {}", heard.join(", ")));
    heard
}

/// A message that carries the channel its sender waits on before it may talk again.
#[derive(Debug)]
pub struct Message {
    /// The text, e.g. `"Joe 3"`.
    pub text: String,
    /// Send on it to let the sender go on.
    pub wait: Sender<bool>,
}

/// Go's `boring` for "restoring sequence": after each message it waits for a go-ahead.
pub fn boring_in_turn(msg: &'static str, max_pause: Duration, seed: u64) -> Receiver<Message> {
    let (c, rx) = chan::rendezvous();
    let (wait_tx, wait_for_it) = chan::rendezvous(); // shared between all its messages
    let mut rng = Rng::new(seed);
    waza::go!(async move {
        for i in 0u64.. {
            let text = format!("{msg} {i}");
            let wait = wait_tx.clone();
            if c.send(Message { text, wait }).await.is_err() {
                return;
            }
            time::sleep(rng.millis(max_pause.as_millis() as u64)).await;
            if wait_for_it.recv().await.is_none() {
                return;
            }
        }
    });
    rx
}

/// Runs `rounds` rounds of "restoring sequence" and returns each round's two messages.
///
/// # Cancel safety
///
/// Dropping the future drops the merged channel; the fan-in and the generators then stop.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza_examples::{fanin, Out};
///
/// let rounds = waza::block_on(fanin::in_turn(2, Duration::from_millis(1), &Out::capture()));
/// assert_eq!(rounds.len(), 2);
/// ```
pub async fn in_turn(rounds: usize, max_pause: Duration, out: &Out) -> Vec<[String; 2]> {
    let c = fan_in_select(
        boring_in_turn("Joe", max_pause, 1),
        boring_in_turn("Ann", max_pause, 2),
    );
    let mut heard = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let msg1 = c.recv().await.expect("the generators never stop first");
        let msg2 = c.recv().await.expect("the generators never stop first");
        let _ = msg1.wait.send(true).await;
        let _ = msg2.wait.send(true).await;
        heard.push([msg1.text, msg2.text]);
    }
    let shown: Vec<String> = heard.iter().map(|[a, b]| format!("{a} / {b}")).collect();
    out.line(format!(
        "restoring sequence, in turns: {}",
        shown.join(", ")
    ));
    heard
}

/// Checks that the messages of each speaker are numbered 0, 1, 2, … in order.
fn check_per_speaker(heard: &[String]) -> Result<(), String> {
    for who in ["Joe", "Ann"] {
        let mine: Vec<&String> = heard.iter().filter(|s| s.starts_with(who)).collect();
        for (i, s) in mine.iter().enumerate() {
            ensure(**s == format!("{who} {i}"), || {
                format!("{who}'s messages out of order: {mine:?}")
            })?;
        }
    }
    ensure(
        heard
            .iter()
            .all(|s| s.starts_with("Joe ") || s.starts_with("Ann ")),
        || format!("a stranger spoke: {heard:?}"),
    )
}

/// The whole program: 10 messages through each fan-in, then 5 rounds in turn, pauses up
/// to 100 ms (quick: 6 messages, 3 rounds, 5 ms). Checks that nothing was lost or
/// reordered per speaker and that, in turn, round `i` holds "Joe i" and "Ann i".
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// Dropping the future drops the merged channels; every task then stops.
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let max_pause = Duration::from_millis(size.pick(5, 100));
    let n = size.pick(6, 10);
    let (joe, ann) = joe_and_ann(max_pause, 1);
    let heard = listen("two forwarding tasks", fan_in_tasks(joe, ann), n, out).await;
    check_per_speaker(&heard)?;
    let (joe, ann) = joe_and_ann(max_pause, 3);
    let heard = listen("one select! loop", fan_in_select(joe, ann), n, out).await;
    check_per_speaker(&heard)?;
    let rounds = in_turn(size.pick(3, 5), max_pause, out).await;
    for (i, pair) in rounds.iter().enumerate() {
        let mut sorted = pair.clone();
        sorted.sort();
        ensure(sorted == [format!("Ann {i}"), format!("Joe {i}")], || {
            format!("round {i} was {pair:?}")
        })?;
    }
    out.line("You're both boring; I'm leaving.");
    Ok(())
}
