use waza_channel::{bounded, rendezvous, select, unbounded, Receiver};

/// A receiver whose channel is already closed (its sender is gone).
fn closed() -> Receiver<u32> {
    unbounded().1
}

async fn forms(flag: bool) -> Result<u32, String> {
    let (tx, rx) = unbounded::<u32>();
    let (stx, _srx) = bounded::<u32>(1);
    tx.try_send(1).unwrap();
    // Every syntax form, expression position, `?` in a body.
    let a = select! {
        biased;
        Some(v) = rx.recv() => v,
        r = stx.send(2), if flag => { r.map_err(|e| e.to_string())?; 2 }
        _ = std::future::ready(()) => 3,
        default => 4,
    };
    // An arm future that borrows a temporary (the receiver returned by `closed()`).
    let b = select! {
        v = closed().recv() => v.unwrap_or(10),
    };
    // Send arms whose value moves into the select; `continue`/`break` in bodies.
    let (rtx, rrx) = rendezvous::<String>();
    let mut n = 0;
    loop {
        n += 1;
        select! {
            _ = rtx.send(String::from("x")) => {}
            default => if n < 3 { continue } else { break },
        }
    }
    drop(rrx);
    Ok(a + b + n)
}

fn main() {
    assert_eq!(futures::executor::block_on(forms(true)), Ok(14));
}
