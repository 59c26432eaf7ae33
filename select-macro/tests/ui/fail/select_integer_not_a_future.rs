async fn f() {
    waza::select! {
        n = 42 => drop(n),
        else => {}
    }
}

fn main() {
    let _ = f();
}
