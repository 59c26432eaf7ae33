use waza_channel::select;

fn not_async(rx: waza_channel::Receiver<u8>) -> Option<u8> {
    select! {
        v = rx.recv() => v,
    }
}

fn main() {
    let (_tx, rx) = waza_channel::unbounded();
    let _ = not_async(rx);
}
