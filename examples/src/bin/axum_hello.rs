//! An axum `Router` (a JSON route with a path parameter) served by waza.
//!
//! ```text
//! cargo run --release -p waza-examples --bin axum_hello -- [PORT]    # until Ctrl-C
//! cargo run --release -p waza-examples --bin axum_hello -- --demo    # serve, check, exit
//! ```
//!
//! `PORT` defaults to 3000 (0: any free port); the server listens on 127.0.0.1 and stops
//! gracefully on Ctrl-C. Try `curl http://127.0.0.1:3000/hello/gopher`. The program is in
//! `waza_examples::axum_hello`.

use std::process::ExitCode;

use waza_examples::cli::{self, Flag, Number, Usage};
use waza_examples::{axum_hello, Out};

const USAGE: Usage = Usage {
    program: "axum_hello",
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
        return cli::exit_status(axum_hello::demo(&Out::stdout()).await);
    }
    let port = args.number(0).unwrap_or(3000) as u16;
    match axum_hello::serve_until_ctrl_c(port).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axum_hello: {e}");
            ExitCode::FAILURE
        }
    }
}
