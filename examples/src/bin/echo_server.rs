//! A TCP echo server, one task per connection (Go's `io.Copy(c, c)`).
//!
//! Without arguments it serves on 127.0.0.1 (a free port, printed) until killed. With
//! `--demo` it starts its own clients, checks what they saw, stops and exits (non-zero when
//! something was wrong). The Go original and the program are in
//! `waza_examples::echo_server`.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{echo_server, Out};

const USAGE: Usage = Usage::demo("echo_server");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    if args.demo() {
        let out = Out::stdout();
        return cli::exit_status(echo_server::demo(3, &out).await);
    }
    match echo_server::serve_forever().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}
