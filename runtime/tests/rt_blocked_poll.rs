//! The blocked-worker monitor (Go's sysmon): a task that blocks inside `poll` no longer
//! starves the tasks queued behind it. Every check is by progress (what ran while the
//! blocker was still blocked), never by timings: a blocker blocks until the test
//! releases it, and the test releases it only after checking.

use futures::io::{AsyncReadExt, AsyncWriteExt};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use waza::net::{TcpListener, TcpStream};

#[cfg(target_os = "linux")]
#[path = "support/threads.rs"]
mod threads;
#[cfg(target_os = "linux")]
use threads::{count_named as count_threads_named, wakeups_of};

/// Long enough never to be reached on a healthy run; bounds a failing one.
const NEVER: Duration = Duration::from_secs(20);

/// A blocker: a task body that blocks its thread inside one poll until released.
struct Gate {
    started: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
    returned: Arc<AtomicBool>,
}

fn gate() -> (Gate, impl std::future::Future<Output = ()> + Send + 'static) {
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let returned = Arc::new(AtomicBool::new(false));
    let flag = returned.clone();
    let body = async move {
        started_tx.send(()).unwrap();
        // Blocks the worker thread (not `.await`): what the monitor is for.
        let _ = release_rx.recv_timeout(NEVER);
        flag.store(true, Ordering::SeqCst);
    };
    (
        Gate {
            started,
            release,
            returned,
        },
        body,
    )
}

/// Two blockers on `rt`, both blocking by the time this returns (a worker, or a
/// replacement of one, runs each).
fn two_blocked(rt: &waza::Runtime) -> (Gate, Gate) {
    let (a, blocker_a) = gate();
    let (b, blocker_b) = gate();
    rt.spawn(blocker_a);
    rt.spawn(blocker_b);
    a.wait_started();
    b.wait_started();
    (a, b)
}

impl Gate {
    fn wait_started(&self) {
        self.started
            .recv_timeout(NEVER)
            .expect("the blocker never started");
    }

    fn still_blocked(&self) -> bool {
        !self.returned.load(Ordering::SeqCst)
    }

    fn release(&self) {
        let _ = self.release.send(());
    }
}

// The hand-off needs Linux's membarrier; elsewhere the monitor only reports.
#[cfg(target_os = "linux")]
#[test]
fn one_worker_blocked_timers_and_sockets_still_run() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let (gate, blocker) = gate();
    rt.spawn(blocker);
    gate.wait_started();

    let done = Arc::new(AtomicUsize::new(0));
    let sleepers: Vec<_> = (0..100)
        .map(|_| {
            let done = done.clone();
            rt.spawn(async move {
                waza::time::sleep(Duration::from_millis(10)).await;
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let echo = rt.spawn(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = waza::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut b = [0u8; 5];
            s.read_exact(&mut b).await.unwrap();
            s.write_all(&b).await.unwrap();
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"hello").await.unwrap();
        let mut b = [0u8; 5];
        c.read_exact(&mut b).await.unwrap();
        server.await.unwrap();
        b
    });
    let (echoed, finished) = rt.block_on(async {
        let echoed = echo.await.unwrap();
        for s in sleepers {
            s.await.unwrap();
        }
        (echoed, done.load(Ordering::SeqCst))
    });
    let blocked_meanwhile = gate.still_blocked();
    gate.release();
    assert_eq!(&echoed, b"hello");
    assert_eq!(finished, 100);
    assert!(
        blocked_meanwhile,
        "the timers and the echo must finish while the blocker still blocks"
    );
    assert!(rt.handle().metrics().blocked_polls_count() >= 1);
}

// The hand-off needs Linux's membarrier; elsewhere the monitor only reports.
#[cfg(target_os = "linux")]
#[test]
fn two_workers_both_blocked_a_third_task_runs() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let (a, b) = two_blocked(&rt);
    let third = rt.spawn(async {
        waza::task::yield_now().await;
        3
    });
    let out = rt.block_on(async { waza::time::timeout(NEVER, third).await });
    // The third task may run on the first replacement before the monitor has seen the
    // second blocker for a whole threshold: wait for both reports (bounded).
    let reported = wait_for_reports(&rt, 2);
    let both_blocked = a.still_blocked() && b.still_blocked();
    a.release();
    b.release();
    assert_eq!(out.expect("the third task never ran").unwrap(), 3);
    assert!(
        both_blocked,
        "the third task must run while both still block"
    );
    assert!(reported >= 2, "{reported} blocked polls reported");
}

/// Waits (at most [`NEVER`]) until the monitor has reported `n` blocked polls; returns the
/// count it last saw.
fn wait_for_reports(rt: &waza::Runtime, n: u64) -> u64 {
    let deadline = std::time::Instant::now() + NEVER;
    loop {
        let count = rt.handle().metrics().blocked_polls_count();
        if count >= n || std::time::Instant::now() >= deadline {
            return count;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn the_callback_gets_the_spawn_location_and_metrics_count_it() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let seen = reports.clone();
    let (reported_tx, reported) = mpsc::channel();
    let reported_tx = Mutex::new(reported_tx);
    let rt = waza::Runtime::builder()
        .workers(1)
        .blocked_poll_threshold(Duration::from_millis(20))
        .on_blocked_poll(move |b: &waza::BlockedPoll| {
            seen.lock()
                .unwrap()
                .push((b.task_id(), *b.location(), b.duration(), b.worker()));
            let _ = reported_tx.lock().unwrap().send(());
        })
        .build()
        .unwrap();
    let (gate, blocker) = gate();
    let here = Location::caller();
    let handle = rt.spawn(blocker);
    let id = handle.task_id();
    gate.wait_started();
    reported.recv_timeout(NEVER).expect("no report");
    // While it blocks, the dump shows it.
    let dump = rt.handle().dump();
    let info = dump.tasks().iter().find(|t| t.id() == id).unwrap();
    let blocked_for = info.blocked_for();
    let text = dump.to_string();
    gate.release();
    rt.block_on(handle).unwrap();

    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 1, "one report per blocked poll: {reports:?}");
    let (task, location, duration, worker) = reports[0];
    assert_eq!(task, id);
    assert_eq!(location.file(), here.file());
    assert_eq!(location.line(), here.line() + 1, "the line of `rt.spawn`");
    assert!(
        duration >= Duration::from_millis(20),
        "reported after {duration:?}"
    );
    assert_eq!(worker, 0);
    assert!(blocked_for.is_some_and(|d| d >= Duration::from_millis(20)));
    assert!(text.contains("running (blocked "), "{text}");
    let m = rt.handle().metrics();
    assert_eq!(m.blocked_polls_count(), 1);
    assert!(m.longest_blocked_poll() >= duration);
}

#[test]
fn short_polls_are_never_reported() {
    // Millions of short polls back to back: a monitor that confused one poll with the
    // next would see a poll "spanning" many samples. The threshold is far above any
    // preemption of a worker thread on a loaded machine (which the monitor cannot tell
    // from blocking), so only such a confusion could report here.
    let rt = waza::Runtime::builder()
        .workers(2)
        .blocked_poll_threshold(Duration::from_millis(200))
        .build()
        .unwrap();
    rt.block_on(async {
        let hs: Vec<_> = (0..1000)
            .map(|i| {
                waza::spawn(async move {
                    for _ in 0..2000 {
                        waza::task::yield_now().await;
                    }
                    i
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    assert_eq!(rt.handle().metrics().blocked_polls_count(), 0);
}

// The hand-off needs Linux's membarrier; elsewhere the monitor only reports.
#[cfg(target_os = "linux")]
#[test]
fn the_replacement_is_named_like_the_worker() {
    let rt = waza::Runtime::builder()
        .workers(1)
        .thread_name("blk")
        .build()
        .unwrap();
    let (gate, blocker) = gate();
    rt.spawn(blocker);
    gate.wait_started();
    let name = rt.spawn(async { std::thread::current().name().map(str::to_owned) });
    let name = rt.block_on(async { waza::time::timeout(NEVER, name).await });
    let blocked_meanwhile = gate.still_blocked();
    gate.release();
    assert_eq!(name.unwrap().unwrap().as_deref(), Some("blk-0"));
    assert!(blocked_meanwhile);
}

// The hand-off needs Linux's membarrier; elsewhere the monitor only reports.
#[cfg(target_os = "linux")]
#[test]
fn the_worker_count_returns_to_workers_after_the_blocker_returns() {
    // A threshold well above any preemption of a trivial poll on a loaded machine, so the
    // only take-over is the blocker's (a second one would start another thread).
    let rt = waza::Runtime::builder()
        .workers(1)
        .blocked_poll_threshold(Duration::from_millis(100))
        .build()
        .unwrap();
    let (gate, blocker) = gate();
    let blocker = rt.spawn(blocker);
    gate.wait_started();
    let ran_on = |rt: &waza::Runtime| {
        let h = rt.spawn(async { std::thread::current().id() });
        rt.block_on(async { waza::time::timeout(NEVER, h).await })
            .unwrap()
            .unwrap()
    };
    let replacement = ran_on(&rt);
    gate.release();
    rt.block_on(blocker).unwrap();
    // The old thread left: every later task runs on the one worker thread there is.
    for _ in 0..20 {
        assert_eq!(ran_on(&rt), replacement);
    }
}

// The hand-off needs Linux's membarrier; elsewhere the monitor only reports.
#[cfg(target_os = "linux")]
#[test]
fn shutdown_returns_while_a_task_blocks_forever() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let (started_tx, started) = mpsc::channel();
    let (_never_tx, never) = mpsc::channel::<()>();
    let never = Mutex::new(never);
    rt.spawn(async move {
        started_tx.send(()).unwrap();
        // Nobody ever sends: this poll never returns (the test process exits under it).
        let _ = never.lock().unwrap().recv();
    });
    started.recv_timeout(NEVER).unwrap();
    // Let the monitor take the worker over first, then shut down.
    let h = rt.spawn(async { 1 });
    assert_eq!(rt.block_on(h).unwrap(), 1);
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        rt.shutdown_timeout(Duration::from_millis(50));
        done_tx.send(()).unwrap();
    });
    done.recv_timeout(NEVER)
        .expect("shutdown_timeout must return while a task blocks forever");
    std::mem::forget(_never_tx);
}

#[test]
fn current_thread_runtimes_only_report() {
    let (reported_tx, reported) = mpsc::channel();
    let reported_tx = Mutex::new(reported_tx);
    let rt = waza::Runtime::builder()
        .current_thread()
        .on_blocked_poll(move |b: &waza::BlockedPoll| {
            let _ = reported_tx.lock().unwrap().send(b.task_id());
        })
        .build()
        .unwrap();
    let main = std::thread::current().id();
    let (ids, blocker_id) = rt.block_on(async {
        let blocker = waza::spawn(async {
            std::thread::sleep(Duration::from_millis(50));
            std::thread::current().id()
        });
        let blocker_id = blocker.task_id();
        let other = waza::spawn(async { std::thread::current().id() });
        ([blocker.await.unwrap(), other.await.unwrap()], blocker_id)
    });
    assert_eq!(
        ids,
        [main, main],
        "tasks of a current-thread runtime never move"
    );
    assert_eq!(reported.recv_timeout(NEVER).unwrap(), blocker_id);
}

#[test]
fn a_zero_threshold_is_an_error_and_max_turns_the_monitor_off() {
    let err = waza::Runtime::builder()
        .blocked_poll_threshold(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("blocked_poll_threshold"));

    let rt = waza::Runtime::builder()
        .workers(1)
        .blocked_poll_threshold(Duration::MAX)
        .build()
        .unwrap();
    let h = rt.spawn(async {
        std::thread::sleep(Duration::from_millis(30));
    });
    rt.block_on(h).unwrap();
    assert_eq!(rt.handle().metrics().blocked_polls_count(), 0);
}

// The hand-off needs Linux's membarrier; elsewhere the monitor only reports.
#[cfg(target_os = "linux")]
#[test]
fn wakes_from_a_blocked_poll_are_not_lost() {
    // The blocker wakes tasks from inside its poll before and after the take-over; each
    // must run exactly once (some land in the old core, the rest in the inject queue).
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let (tx, rx) = waza::chan::unbounded::<usize>();
    let counted = Arc::new(AtomicUsize::new(0));
    let receivers: Vec<_> = (0..8)
        .map(|_| {
            let rx = rx.clone();
            let counted = counted.clone();
            rt.spawn(async move {
                while let Some(v) = rx.recv().await {
                    counted.fetch_add(v, Ordering::SeqCst);
                }
            })
        })
        .collect();
    drop(rx);
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let blocker = rt.spawn(async move {
        started_tx.send(()).unwrap();
        for i in 1..=2000usize {
            tx.try_send(i).unwrap();
            if i % 100 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let _ = release_rx.recv_timeout(NEVER);
        drop(tx);
    });
    started.recv_timeout(NEVER).unwrap();
    // Wait until the receivers drained everything sent so far, while the blocker blocks.
    let want = 2000 * 2001 / 2;
    let deadline = std::time::Instant::now() + NEVER;
    while counted.load(Ordering::SeqCst) != want && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(counted.load(Ordering::SeqCst), want);
    release_tx.send(()).unwrap();
    rt.block_on(async {
        blocker.await.unwrap();
        for r in receivers {
            r.await.unwrap();
        }
    });
    assert_eq!(counted.load(Ordering::SeqCst), want);
}

#[cfg(target_os = "linux")]
#[test]
fn at_most_max_blocking_threads_replacements_at_once() {
    let rt = waza::Runtime::builder()
        .workers(2)
        .max_blocking_threads(1)
        .thread_name("cap")
        .build()
        .unwrap();
    let (a, b) = two_blocked(&rt);
    // Both are reported; one worker is replaced, the other stays stuck (the cap).
    wait_for_reports(&rt, 2);
    let third = rt.spawn(async { 3 });
    let out = rt.block_on(async { waza::time::timeout(NEVER, third).await });
    // Wait a few monitor rounds: no second replacement may start.
    std::thread::sleep(Duration::from_millis(50));
    let threads = count_threads_named("cap-");
    let both_blocked = a.still_blocked() && b.still_blocked();
    a.release();
    b.release();
    assert_eq!(out.expect("the third task never ran").unwrap(), 3);
    assert!(both_blocked);
    // (A loaded machine may preempt a later poll past the threshold: more reports are
    // possible, never more replacement threads than the cap.)
    assert!(rt.handle().metrics().blocked_polls_count() >= 2);
    assert_eq!(threads, 3, "two stuck workers and one replacement");
}

#[cfg(target_os = "linux")]
#[test]
fn the_monitor_sleeps_while_every_worker_is_parked() {
    let rt = waza::Runtime::builder()
        .workers(2)
        .thread_name("idlemon")
        .build()
        .unwrap();
    // Some work first, so the monitor has been sampling, then nothing at all.
    rt.block_on(async {
        let hs: Vec<_> = (0..100).map(|_| waza::spawn(waza::yield_now())).collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    std::thread::sleep(Duration::from_millis(50));
    let before = wakeups_of("sysmon-idlemon");
    std::thread::sleep(Duration::from_millis(300));
    let woke = wakeups_of("sysmon-idlemon") - before;
    // Sampling every millisecond would be ~300 wake-ups; asleep, it is woken by nothing
    // (the workers stay parked) but its one-second safety timeout.
    assert!(woke < 30, "the idle monitor woke {woke} times in 300 ms");
    drop(rt);
}
