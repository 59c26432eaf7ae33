//! The driver's edges: use outside a runtime, shutdown with waiters, registration churn.

use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use waza::net::{TcpListener, TcpStream};
use waza::time::sleep;

#[test]
fn polling_a_sleep_outside_a_runtime_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| {
        futures::executor::block_on(sleep(Duration::from_millis(1)));
    })
    .unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(msg.contains("runtime"), "message: {msg}");
}

#[test]
fn an_elapsed_sleep_needs_no_runtime() {
    futures::executor::block_on(sleep(Duration::ZERO));
}

#[test]
fn dropping_the_runtime_with_sleeping_and_reading_tasks_does_not_hang() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for _ in 0..10 {
            waza::spawn(sleep(Duration::from_secs(3600)));
        }
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        waza::spawn(async move {
            let mut buf = [0; 1];
            let _ = (&server).read(&mut buf).await; // never gets data
        });
        waza::spawn(async move {
            let _keep = client;
            sleep(Duration::from_secs(3600)).await;
        });
        sleep(Duration::from_millis(10)).await;
    });
    drop(rt);
}

#[test]
fn thousands_of_short_lived_connections_reuse_registrations() {
    let rt = waza::Runtime::builder().workers(2).build().unwrap();
    let n = if cfg!(debug_assertions) { 2_000 } else { 5_000 };
    let total = rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = waza::spawn(async move {
            let mut total = 0u64;
            for _ in 0..n {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut b = [0; 1];
                s.read_exact(&mut b).await.unwrap();
                total += u64::from(b[0]);
            }
            total
        });
        for i in 0..n {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(&[(i % 7) as u8]).await.unwrap();
        }
        server.await.unwrap()
    });
    let expect: u64 = (0..n).map(|i| (i % 7) as u64).sum();
    assert_eq!(total, expect);
}
