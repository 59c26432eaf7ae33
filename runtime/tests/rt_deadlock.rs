//! `Builder::detect_deadlock`: Go's "all goroutines are asleep - deadlock!".

use std::time::Duration;

fn rt() -> waza::Runtime {
    waza::Runtime::builder()
        .workers(2)
        .detect_deadlock(true)
        .build()
        .unwrap()
}

fn panic_message(r: Box<dyn std::any::Any + Send>) -> String {
    match r.downcast::<String>() {
        Ok(s) => *s,
        Err(r) => r
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn channel_deadlock_is_reported_with_a_dump() {
    let rt = rt();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            let (tx, rx) = waza::chan::rendezvous::<u32>();
            // a task that waits for a value nobody sends
            let waiter = waza::spawn(async move { rx.recv().await });
            let _keep = tx;
            waiter.await
        })
    }));
    let msg = panic_message(r.unwrap_err());
    assert!(msg.contains("all tasks are asleep - deadlock!"), "{msg}");
    assert!(
        msg.contains("rt_deadlock.rs"),
        "the dump lists the waiting task: {msg}"
    );
}

#[test]
fn sleeping_tasks_are_not_a_deadlock() {
    let v = rt().block_on(async {
        waza::spawn(async {
            waza::time::sleep(Duration::from_millis(60)).await;
            7
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 7);
}

#[test]
fn running_blocking_closures_are_not_a_deadlock() {
    let v = rt().block_on(async {
        waza::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(60));
            8
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 8);
}

#[test]
fn busy_tasks_are_not_a_deadlock() {
    let v = rt().block_on(async {
        let hs: Vec<_> = (0..50u64)
            .map(|i| {
                waza::spawn(async move {
                    for _ in 0..100 {
                        waza::yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(v, (0..50).sum::<u64>());
}

#[test]
fn tasks_waiting_on_sockets_are_not_a_deadlock() {
    const CLIENTS: usize = 3;
    let rt = rt();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    // Plain OS threads connect long after every worker has parked (several detector
    // checks of 50 ms + 20 ms grace happen in between).
    let clients = std::thread::spawn(move || {
        let addr: std::net::SocketAddr = addr_rx.recv().unwrap();
        let mut streams = Vec::new();
        for _ in 0..CLIENTS {
            std::thread::sleep(Duration::from_millis(150));
            streams.push(std::net::TcpStream::connect(addr).unwrap());
        }
        streams.len()
    });
    let accepted = rt.block_on(async move {
        let listener = waza::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addr_tx.send(listener.local_addr().unwrap()).unwrap();
        let (tx, rx) = waza::chan::rendezvous::<usize>();
        // The accept loop feeds the channel block_on waits on; no timer is pending.
        waza::spawn(async move {
            for i in 0..CLIENTS {
                let (_stream, _) = listener.accept().await.unwrap();
                tx.send(i).await.unwrap();
            }
        });
        let mut got = Vec::new();
        for _ in 0..CLIENTS {
            got.push(rx.recv().await.unwrap());
        }
        got
    });
    assert_eq!(accepted, (0..CLIENTS).collect::<Vec<_>>());
    assert_eq!(clients.join().unwrap(), CLIENTS);
}
