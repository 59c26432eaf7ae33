//! Metrics and task dumps.

use waza::TaskState;

#[test]
fn polls_are_counted_exactly() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    rt.block_on(async {
        let hs: Vec<_> = (0..10)
            .map(|_| {
                waza::spawn(async {
                    waza::yield_now().await; // two polls each
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    let m = rt.handle().metrics();
    assert_eq!(m.total_polls_count(), 20);
    assert_eq!(m.spawned_tasks_count(), 10);
    assert_eq!(m.num_alive_tasks(), 0);
    assert_eq!(m.global_queue_depth(), 0);
    assert_eq!(m.num_workers(), 2);
}

#[test]
fn dump_lists_live_tasks_with_spawn_locations() {
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let line = line!() + 1;
    let a = rt.spawn(std::future::pending::<()>());
    let b = rt.handle().spawn(std::future::pending::<()>());
    let c = rt.block_on(async {
        let c = waza::go!(std::future::pending::<()>());
        // let the worker poll all three once
        for _ in 0..10 {
            waza::yield_now().await;
        }
        Some(c)
    });
    let c = c.unwrap();
    let dump = rt.handle().dump();
    let tasks = dump.tasks();
    assert_eq!(tasks.len(), 3);
    let ids = [a.task_id(), b.task_id(), c.task_id()];
    for (t, id) in tasks.iter().zip(ids) {
        assert_eq!(t.id(), id);
        assert!(t.location().file().ends_with("rt_introspection.rs"));
        assert!(t.waiting_on().is_none());
    }
    assert_eq!(tasks[0].location().line(), line);
    assert_eq!(tasks[1].location().line(), line + 1);
    let text = dump.to_string();
    assert_eq!(text.matches("task ").count(), 3, "{text}");
    assert!(text.contains("rt_introspection.rs"), "{text}");
    // all three were polled once and now wait
    let mut idle = 0;
    for _ in 0..10_000 {
        idle = rt
            .handle()
            .dump()
            .tasks()
            .iter()
            .filter(|t| t.state() == TaskState::Idle)
            .count();
        if idle == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(idle, 3);
    a.abort();
    rt.block_on(async { assert!(a.await.unwrap_err().is_cancelled()) });
    assert_eq!(rt.handle().dump().tasks().len(), 2);
}

#[test]
fn dump_shows_channel_wait_reasons() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let (tx, rx) = waza::chan::rendezvous::<u8>();
    let (btx, _brx) = waza::chan::bounded::<u8>(0);
    let receiver = rt.spawn(async move { rx.recv().await });
    let sender = rt.spawn(async move { btx.send(1).await });
    let mut reasons = Vec::new();
    for _ in 0..10_000 {
        let dump = rt.handle().dump();
        reasons = dump.tasks().iter().map(|t| t.waiting_on()).collect();
        if reasons.iter().all(|r| r.is_some()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let reasons: Vec<String> = reasons.into_iter().map(|r| r.unwrap()).collect();
    assert!(reasons[0].starts_with("recv on chan#"), "{reasons:?}");
    assert!(reasons[0].ends_with("(rendezvous)"), "{reasons:?}");
    assert!(reasons[1].starts_with("send on chan#"), "{reasons:?}");
    let text = rt.handle().dump().to_string();
    assert!(text.contains("[recv on chan#"), "{text}");
    // once woken and finished, the tasks leave the dump
    tx.send_blocking(5).unwrap();
    assert_eq!(rt.block_on(receiver).unwrap(), Some(5));
    sender.abort();
    assert!(rt.block_on(sender).unwrap_err().is_cancelled());
    assert!(rt.handle().dump().tasks().is_empty());
}
