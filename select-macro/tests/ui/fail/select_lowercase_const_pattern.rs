// A lower-case constant looks like a binding; the arm must not take every value for it.
#[allow(non_upper_case_globals)]
const nothing: Option<u32> = None;

fn main() {
    let (_tx, rx) = waza::chan::unbounded::<u32>();
    waza::block_on(async move {
        waza::select! {
            nothing = rx.recv() => {}
            default => {}
        }
    });
}
