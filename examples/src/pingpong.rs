//! Ping-pong: two players hit one ball back and forth over a shared rendezvous channel.
//!
//! The Go original (Sameer Ajmani, "Advanced Go Concurrency Patterns", 2013):
//!
//! ```go
//! type Ball struct{ hits int }
//!
//! func main() {
//!     table := make(chan *Ball)
//!     go player("ping", table)
//!     go player("pong", table)
//!
//!     table <- new(Ball) // game on; toss the ball
//!     time.Sleep(1 * time.Second)
//!     <-table // game over; grab the ball
//! }
//!
//! func player(name string, table chan *Ball) {
//!     for {
//!         ball := <-table
//!         ball.hits++
//!         fmt.Println(name, ball.hits)
//!         time.Sleep(100 * time.Millisecond)
//!         table <- ball
//!     }
//! }
//! ```
//!
//! Here the game ends after a fixed number of hits rather than after a second, so the output
//! is the same on every run (apart from who gets the first toss): the player who makes the
//! last hit hands the ball to the umpire on `done`, the umpire closes the table, and the
//! other player, waiting at the table, sees the close and leaves.
//!
//! Why the players must alternate: the table is a rendezvous channel, so a player's send
//! completes only when a receiver takes the ball, and the only receiver that can be waiting
//! is the other player.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use waza::chan::{self, Receiver, Sender};

use crate::cli::ensure;
use crate::{Out, Size};

/// The ball: it counts how often it was hit.
#[derive(Debug, Default)]
pub struct Ball {
    /// Hits so far.
    pub hits: u32,
}

/// One hit: who hit the ball, and the ball's hit count after it.
pub type Hit = (&'static str, u32);

/// Everything a player needs: the table (both ends), the umpire's channel and the rules.
struct Player {
    name: &'static str,
    to_table: Sender<Ball>,
    from_table: Receiver<Ball>,
    done: Sender<Ball>,
    limit: u32,
    pause: Duration,
    hits: Arc<Mutex<Vec<Hit>>>,
    out: Out,
}

impl Player {
    async fn play(self) {
        while let Some(mut ball) = self.from_table.recv().await {
            ball.hits += 1;
            self.out.line(format!("{} {}", self.name, ball.hits));
            self.hits.lock().unwrap().push((self.name, ball.hits));
            waza::time::sleep(self.pause).await;
            if ball.hits >= self.limit {
                let _ = self.done.send(ball).await;
                return;
            }
            if self.to_table.send(ball).await.is_err() {
                return;
            }
        }
    }
}

/// Plays a game of `limit` hits, pausing `pause` after each hit, and returns the hits in
/// order.
///
/// # Panics
///
/// Panics if `limit` is zero.
///
/// # Cancel safety
///
/// Dropping the future detaches the players; the last hit's send to the umpire then fails
/// and the game stops.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza_examples::{pingpong, Out};
///
/// let hits = waza::block_on(pingpong::game(4, Duration::ZERO, &Out::capture()));
/// assert_eq!(hits.iter().map(|h| h.1).collect::<Vec<_>>(), [1, 2, 3, 4]);
/// ```
pub async fn game(limit: u32, pause: Duration, out: &Out) -> Vec<Hit> {
    assert!(limit > 0, "a game needs at least one hit");
    let (table_tx, table_rx) = chan::rendezvous();
    let (done_tx, done_rx) = chan::rendezvous();
    let hits = Arc::new(Mutex::new(Vec::new()));
    let players: Vec<_> = ["ping", "pong"]
        .into_iter()
        .map(|name| {
            let player = Player {
                name,
                to_table: table_tx.clone(),
                from_table: table_rx.clone(),
                done: done_tx.clone(),
                limit,
                pause,
                hits: hits.clone(),
                out: out.clone(),
            };
            waza::go!(player.play())
        })
        .collect();
    drop(done_tx);

    table_tx
        .send(Ball::default())
        .await
        .expect("the players are at the table"); // game on
    let ball = done_rx.recv().await.expect("one player ends the game"); // game over
    table_tx.close();
    for p in players {
        p.await.expect("players do not panic");
    }
    out.line(format!("game over after {} hits", ball.hits));
    let hits = hits.lock().unwrap().clone();
    hits
}

/// The whole program: 10 hits 100 ms apart (quick: 6 hits, 10 ms). Checks that the hits
/// are numbered 1, 2, … and that the players alternated.
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// As [`game`].
pub async fn program(size: Size, out: &Out) -> Result<(), String> {
    let limit = size.pick(6, 10);
    let hits = game(limit, Duration::from_millis(size.pick(10, 100)), out).await;
    let numbers: Vec<u32> = hits.iter().map(|h| h.1).collect();
    ensure(numbers == (1..=limit).collect::<Vec<_>>(), || {
        format!("hits {hits:?}")
    })?;
    ensure(hits.windows(2).all(|p| p[0].0 != p[1].0), || {
        format!("the same player hit twice: {hits:?}")
    })
}
