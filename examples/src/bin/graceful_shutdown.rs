//! Graceful shutdown on Ctrl-C: stop accepting, finish the requests in flight under a
//! `Context` deadline, exit 0 (Go's `srv.Shutdown(ctx)` after `signal.Notify`).
//!
//! ```text
//! cargo run --release -p waza-examples --bin graceful_shutdown -- [PORT]   # Ctrl-C to stop
//! cargo run --release -p waza-examples --bin graceful_shutdown -- --demo   # SIGINT mid-load
//! ```
//!
//! `PORT` defaults to 3000 (0: any free port), on 127.0.0.1. The program is in
//! `waza_examples::graceful_shutdown`.

use std::process::ExitCode;

use waza_examples::cli::{self, Flag, Number, Usage};
use waza_examples::{graceful_shutdown, Out};

const USAGE: Usage = Usage {
    program: "graceful_shutdown",
    flags: &[Flag::Demo],
    numbers: &[Number {
        name: "PORT",
        min: 0,
        max: 65535,
    }],
};

#[waza::main]
async fn main() -> ExitCode {
    let args = USAGE.args();
    if args.demo() {
        return cli::exit_status(graceful_shutdown::demo(&Out::stdout()).await);
    }
    let port = args.number(0).unwrap_or(3000) as u16;
    cli::exit_status(graceful_shutdown::serve_until_ctrl_c(port).await)
}
