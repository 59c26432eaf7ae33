use waza_channel::select;

async fn f() {
    select! {}
}

fn main() {
    let _ = f();
}
