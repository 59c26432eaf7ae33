//! The client side of the HTTP examples' `--demo` runs: hyper's HTTP/1.1 client on waza,
//! and `curl` when it is installed.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use waza::net::TcpStream;

/// One keep-alive HTTP/1.1 connection.
pub struct Client {
    sender: SendRequest<Empty<Bytes>>,
}

/// A response: its status and its whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body, as UTF-8.
    pub body: String,
}

impl Client {
    /// Connects to `addr`; the connection's task runs on waza.
    ///
    /// # Errors
    ///
    /// The connect or handshake error, naming the address.
    pub async fn connect(addr: SocketAddr) -> Result<Client, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(waza::hyper::Io::new(stream))
            .await
            .map_err(|e| format!("handshake with {addr}: {e}"))?;
        drop(waza::spawn(conn));
        Ok(Client { sender })
    }

    /// `GET path`, with the whole body.
    ///
    /// # Errors
    ///
    /// The request's error (e.g. the server closed the connection), naming the path.
    pub async fn get(&mut self, path: &str) -> Result<Answer, String> {
        let req = Request::get(path)
            .header("host", "127.0.0.1")
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        self.sender
            .ready()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let res = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = res.status().as_u16();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("GET {path}: body: {e}"))?
            .to_bytes();
        let body = String::from_utf8(body.to_vec()).map_err(|e| format!("GET {path}: {e}"))?;
        Ok(Answer { status, body })
    }
}

/// `curl -sS http://ADDR/PATH`'s output, run as a waza child process; `None` when curl is
/// not installed.
pub async fn curl(addr: SocketAddr, path: &str) -> Option<Result<String, String>> {
    let out = waza::process::Command::new("curl")
        .args(["-sS", "--max-time", "30", &format!("http://{addr}{path}")])
        .output()
        .await;
    match out {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(Err(e.to_string())),
        Ok(out) if !out.status.success() => Some(Err(format!(
            "curl {path}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
        Ok(out) => Some(String::from_utf8(out.stdout).map_err(|e| e.to_string())),
    }
}

/// Serves until Ctrl-C: the future to hand to `with_graceful_shutdown`. It prints `what`
/// when the signal comes.
pub async fn ctrl_c(program: &'static str) {
    match waza::signal::ctrl_c().await {
        Ok(()) => println!("{program}: Ctrl-C: stopping"),
        Err(e) => {
            eprintln!("{program}: cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    }
}
