//! Cooperative budget on I/O: a task whose socket always has data still lets timers and
//! other tasks run on a single worker.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::io::AsyncReadExt;
use waza::net::TcpListener;

#[test]
fn an_always_ready_reader_does_not_starve_a_timer_on_one_worker() {
    const TOTAL: usize = 1 << 20;
    let rt = waza::Runtime::builder().workers(1).build().unwrap();
    let (flag_seen_with_data_left, read) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // A plain thread keeps the socket full: every 1-byte read below is ready at once.
        let feeder = std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            let chunk = vec![1u8; 64 * 1024];
            for _ in 0..TOTAL / chunk.len() {
                if s.write_all(&chunk).is_err() {
                    return; // the reader stopped early and closed: expected
                }
            }
        });
        let (mut conn, _) = listener.accept().await.unwrap();
        // Let some data queue up before the race starts.
        while conn.peek(&mut [0; 1]).await.unwrap() == 0 {}
        let flag = Arc::new(AtomicBool::new(false));
        let timer = waza::spawn({
            let flag = flag.clone();
            async move {
                waza::time::sleep(Duration::from_millis(1)).await;
                flag.store(true, Ordering::SeqCst);
            }
        });
        let reader = waza::spawn(async move {
            let mut read = 0usize;
            let mut byte = [0u8; 1];
            while read < TOTAL {
                if flag.load(Ordering::SeqCst) {
                    return (true, read);
                }
                match conn.read(&mut byte).await.unwrap() {
                    0 => break,
                    n => read += n,
                }
            }
            (false, read)
        });
        let out = reader.await.unwrap();
        timer.await.unwrap();
        feeder.join().unwrap();
        out
    });
    assert!(
        flag_seen_with_data_left,
        "the timer only ran after the reader drained all {read} bytes"
    );
    assert!(read < TOTAL);
}
