//! The runtime workloads, written once against [`Exec`]: spawning, yielding, chains of
//! spawns and a two-task ping-pong. Each returns a count that the caller can check, so a
//! broken executor cannot produce a fast but wrong result.

use super::exec::Exec;

/// Tasks spawned by [`spawn_many`] and [`spawn_remote`] in the criterion benches.
pub const SPAWN_MANY: usize = 10_000;
/// Tasks in [`yield_many`] in the criterion benches.
pub const YIELD_TASKS: usize = 200;
/// Yields per task in [`yield_many`] in the criterion benches.
pub const YIELDS: usize = 1_000;
/// Depth of [`chained_spawn`] in the criterion benches.
pub const CHAIN: usize = 1_000;
/// Round trips in [`ping_pong`] in the criterion benches.
pub const ROUND_TRIPS: usize = 1_000;

/// From inside a task: spawns `n` tiny tasks and joins them all; returns the number of odd
/// indices (`n / 2`).
pub fn spawn_many<E: Exec>(ex: &E, n: usize) -> usize {
    let inner = ex.clone();
    ex.run(async move {
        let handles: Vec<_> = (0..n).map(|i| inner.spawn(async move { i & 1 })).collect();
        let mut odd = 0;
        for h in handles {
            odd += h.await;
        }
        odd
    })
}

/// From a plain thread (not a worker): spawns `n` tasks through the handle, then waits for
/// all of them; returns `n / 2`.
pub fn spawn_remote<E: Exec>(ex: &E, n: usize) -> usize {
    let handles: Vec<_> = (0..n).map(|i| ex.spawn(async move { i & 1 })).collect();
    futures::executor::block_on(async {
        let mut odd = 0;
        for h in handles {
            odd += h.await;
        }
        odd
    })
}

/// `tasks` tasks each yield `yields` times; returns `tasks * yields`.
pub fn yield_many<E: Exec>(ex: &E, tasks: usize, yields: usize) -> usize {
    let inner = ex.clone();
    ex.run(async move {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                inner.spawn(async move {
                    for _ in 0..yields {
                        E::yield_now().await;
                    }
                    yields
                })
            })
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.await;
        }
        total
    })
}

fn chain_link<E: Exec>(
    ex: E,
    depth: usize,
    left: usize,
    done: futures::channel::oneshot::Sender<usize>,
) {
    let next = ex.clone();
    ex.go(async move {
        if left == 0 {
            let _ = done.send(depth);
        } else {
            chain_link(next, depth, left - 1, done);
        }
    });
}

/// Each task spawns the next, `depth` deep; the last one reports back `depth`.
pub fn chained_spawn<E: Exec>(ex: &E, depth: usize) -> usize {
    let (done, finished) = futures::channel::oneshot::channel();
    let start = ex.clone();
    ex.run(async move {
        chain_link(start, depth, depth, done);
        finished.await.expect("the chain completes")
    })
}

/// Two tasks hand a counter back and forth `round_trips` times through a pair of one-slot
/// async channels (the same channel on every executor, so only the executor's wake-up path
/// differs); returns `round_trips`.
pub fn ping_pong<E: Exec>(ex: &E, round_trips: usize) -> usize {
    let inner = ex.clone();
    ex.run(async move {
        let (to_pong, pong_in) = async_channel::bounded::<usize>(1);
        let (to_ping, ping_in) = async_channel::bounded::<usize>(1);
        let pong = inner.spawn(async move {
            while let Ok(v) = pong_in.recv().await {
                if to_ping.send(v + 1).await.is_err() {
                    break;
                }
            }
        });
        let mut v = 0;
        for _ in 0..round_trips {
            to_pong.send(v).await.expect("pong is alive");
            v = ping_in.recv().await.expect("pong answers");
        }
        drop(to_pong);
        pong.await;
        v
    })
}
