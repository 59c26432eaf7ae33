use waza_channel::select;

async fn f(rx: waza_channel::Receiver<u8>, tx: waza_channel::Sender<u8>) {
    select! {
        Some(v) = rx => drop(v),
        r = tx => drop(r),
    }
}

fn main() {
    let (tx, rx) = waza_channel::unbounded();
    let _ = f(rx, tx);
}
