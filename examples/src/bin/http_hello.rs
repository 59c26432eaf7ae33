//! "Hello, world!" over HTTP with hyper 1.x on waza: Go's `http.ListenAndServe`.
//!
//! ```text
//! cargo run --release -p waza-examples --bin http_hello -- [PORT]    # until Ctrl-C
//! cargo run --release -p waza-examples --bin http_hello -- --demo    # serve, check, exit
//! ```
//!
//! `PORT` defaults to 3000 (0: any free port); the server listens on 127.0.0.1 and stops
//! gracefully on Ctrl-C. The program is in `waza_examples::http_hello`.

use std::process::ExitCode;

use waza_examples::cli::{self, Flag, Number, Usage};
use waza_examples::{http_hello, Out};

const USAGE: Usage = Usage {
    program: "http_hello",
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
        return cli::exit_status(http_hello::demo(&Out::stdout()).await);
    }
    let port = args.number(0).unwrap_or(3000) as u16;
    match http_hello::serve_until_ctrl_c(port).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http_hello: {e}");
            ExitCode::FAILURE
        }
    }
}
