use waza_channel::select;

async fn f(rx: waza_channel::Receiver<u8>) -> u8 {
    select! {
        v = rx.recv() => v.unwrap()
        default => 0,
    }
}

fn main() {
    let (_tx, rx) = waza_channel::unbounded();
    let _ = f(rx);
}
