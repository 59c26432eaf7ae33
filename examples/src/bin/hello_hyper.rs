//! "Hello, world!" over HTTP/1.1 with hyper 1.x on waza: Go's
//! `http.ListenAndServe(addr, hello)`.
//!
//! ```text
//! cargo run --release -p waza-examples --bin hello_hyper -- [ADDR] [--seconds N]
//! curl http://127.0.0.1:3000/
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:3000` (use port 0 for any free port). The server prints the
//! address it listens on, then serves until killed, or for `N` seconds. The adapters and the
//! server loop are in `waza_examples::hyper_compat`.

use std::process::ExitCode;
use std::time::Duration;

use waza::net::TcpListener;
use waza_examples::hyper_compat;

/// What the command line asked for.
struct Args {
    addr: String,
    seconds: Option<u64>,
}

const USAGE: &str = "usage: hello_hyper [ADDR] [--seconds N]   (ADDR defaults to 127.0.0.1:3000)";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        addr: "127.0.0.1:3000".to_owned(),
        seconds: None,
    };
    let mut addr_seen = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let n = args.next().ok_or("--seconds needs a number")?;
                let n = n
                    .parse()
                    .map_err(|_| format!("--seconds: not a number: {n:?}"))?;
                parsed.seconds = Some(n);
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag:?}")),
            addr if !addr_seen => {
                parsed.addr = addr.to_owned();
                addr_seen = true;
            }
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    Ok(parsed)
}

#[waza::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("{msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(args.addr.as_str()).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("hello_hyper: cannot listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}/"),
        Err(e) => println!("listening ({e})"),
    }
    // The accept loop runs as a task so it lands on a worker, not on the main thread.
    let server = waza::spawn(hyper_compat::serve(listener));
    let result = match args.seconds {
        None => server.await,
        Some(n) => match waza::time::timeout(Duration::from_secs(n), server).await {
            Ok(result) => result,
            Err(_elapsed) => return ExitCode::SUCCESS,
        },
    };
    match result {
        Ok(e) => {
            eprintln!("hello_hyper: accept failed: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("hello_hyper: server task failed: {e}");
            ExitCode::FAILURE
        }
    }
}
