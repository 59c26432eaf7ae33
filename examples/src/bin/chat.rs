//! A TCP chat server: a broadcaster task owns the client set; joins, leaves and messages
//! travel over channels.
//!
//! Without arguments it serves on 127.0.0.1 (a free port, printed) until killed. With
//! `--demo` it starts its own clients, checks what they saw, stops and exits (non-zero when
//! something was wrong). The Go original and the program are in `waza_examples::chat`.

use std::process::ExitCode;

use waza_examples::cli::{self, Usage};
use waza_examples::{chat, Out};

const USAGE: Usage = Usage::demo("chat");

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    if args.demo() {
        let out = Out::stdout();
        return cli::exit_status(chat::demo(&out).await);
    }
    match chat::serve_forever().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat: {e}");
            ExitCode::FAILURE
        }
    }
}
