//! A UDP echo server.
//!
//! Without arguments it serves on 127.0.0.1 (a free port, printed) until killed. With
//! `--demo` it starts its own clients, checks what they saw, stops and exits (non-zero when
//! something was wrong). The Go original and the program are in `waza_examples::udp_echo`.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{udp_echo, Out};

const USAGE: Usage = Usage::demo("udp_echo");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    if args.demo() {
        let out = Out::stdout();
        return cli::exit_status(udp_echo::demo(&out).await);
    }
    match udp_echo::serve_forever().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("udp_echo: {e}");
            ExitCode::FAILURE
        }
    }
}
