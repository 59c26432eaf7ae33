// The same wrapper as `waza_channel::select!`.
macro_rules! select {
    ($($t:tt)*) => { ::waza_macros::select_internal! { crate = ::waza_channel; $($t)* } };
}

async fn f() {
    select! {}
}

fn main() {
    let _ = f();
}
