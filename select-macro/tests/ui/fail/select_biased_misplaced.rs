use waza_channel::select;

async fn f(rx: waza_channel::Receiver<u8>) {
    select! {
        v = rx.recv() => drop(v),
        biased;
    }
}

fn main() {
    let (_tx, rx) = waza_channel::unbounded();
    let _ = f(rx);
}
