// The same wrapper as `waza_channel::select!`.
macro_rules! select {
    ($($t:tt)*) => { ::waza_macros::select_internal! { crate = ::waza_channel; $($t)* } };
}

async fn f(rx: waza_channel::Receiver<u8>) {
    select! {
        v = rx.recv() => drop(v),
        n = 5 + 1 => drop(n),
    }
}

fn main() {
    let (_tx, rx) = waza_channel::unbounded();
    let _ = f(rx);
}
