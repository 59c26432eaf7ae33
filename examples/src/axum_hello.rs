//! An axum `Router` served by waza: axum's routing, path extractor and JSON on waza's
//! runtime and sockets, through waza's `hyper` feature. axum is built with its default
//! features off, so no tokio runtime (and no hyper-util) is involved.
//!
//! ```go
//! http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "Hello, world!") })
//! http.HandleFunc("/hello/{name}", func(w http.ResponseWriter, r *http.Request) {
//!     name := r.PathValue("name")
//!     json.NewEncoder(w).Encode(Greeting{Hello: name, Letters: utf8.RuneCountInString(name)})
//! })
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;

use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper::service::service_fn;
use serde::{Deserialize, Serialize};
use tower_service::Service;
use waza::net::TcpListener;

use crate::cli::ensure;
use crate::http_client::{self, Client};
use crate::Out;

/// The JSON answer of `GET /hello/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Greeting {
    /// The name from the path.
    pub hello: String,
    /// How many characters (not bytes) it has.
    pub letters: usize,
}

async fn greet(Path(name): Path<String>) -> Json<Greeting> {
    Json(Greeting {
        letters: name.chars().count(),
        hello: name,
    })
}

/// The application: `GET /` and `GET /hello/{name}`; anything else is axum's 404.
pub fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "Hello, world!" }))
        .route("/hello/{name}", get(greet))
}

/// Serves `router` on `listener` until `shutdown` completes, then gracefully.
///
/// # Errors
///
/// A listener error.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // axum's Router is a tower `Service`; hyper asks for its own `Service` trait.
    let svc = service_fn(move |req: hyper::Request<Incoming>| {
        let mut router = router.clone();
        async move { Ok::<_, Infallible>(router.call(req).await.unwrap_or_else(|e| match e {})) }
    });
    waza::hyper::serve(listener, svc)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves [`app`] on 127.0.0.1:`port` until Ctrl-C.
///
/// # Errors
///
/// The bind error (naming the address) or a listener error.
pub async fn serve_until_ctrl_c(port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    println!("axum_hello: listening on http://{addr}/ (Ctrl-C to stop); try curl http://{addr}/hello/gopher");
    serve(listener, app(), http_client::ctrl_c("axum_hello")).await
}

/// Serves on a free port of 127.0.0.1, checks every route from concurrent hyper clients
/// (and `/hello/curl` with `curl` when installed), then stops the server gracefully.
///
/// # Errors
///
/// The first wrong answer or failed request.
pub async fn demo(out: &Out) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    out.line(format!("axum_hello listening on http://{addr}/"));
    let (stop_tx, stop_rx) = waza::sync::oneshot::channel::<()>();
    let server = waza::spawn(serve(listener, app(), async move {
        let _ = stop_rx.await;
    }));
    let names = ["gopher", "ferris", "waza", "日本語"];
    let tasks: Vec<_> = names
        .iter()
        .map(|&name| waza::spawn(check_routes(addr, name)))
        .collect();
    for (t, name) in tasks.into_iter().zip(names) {
        let greeting = t.await.map_err(|e| e.to_string())??;
        out.line(format!(
            "GET /hello/{name} -> {}",
            serde_json::to_string(&greeting).map_err(|e| e.to_string())?
        ));
    }
    match http_client::curl(addr, "/hello/curl").await {
        None => out.line("curl is not installed: skipped"),
        Some(Ok(body)) => {
            let want = Greeting {
                hello: "curl".into(),
                letters: 4,
            };
            let got: Option<Greeting> = serde_json::from_str(&body).ok();
            ensure(got.as_ref() == Some(&want), || format!("curl got {body:?}"))?;
            out.line(format!("curl: {body}"));
        }
        Some(Err(e)) => return Err(e),
    }
    let _ = stop_tx.send(());
    server
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("server: {e}"))?;
    out.line("server stopped");
    Ok(())
}

/// `GET /`, `GET /hello/{name}` and a missing route on one connection; returns the
/// greeting.
async fn check_routes(addr: SocketAddr, name: &'static str) -> Result<Greeting, String> {
    let mut client = Client::connect(addr).await?;
    let root = client.get("/").await?;
    ensure(
        (root.status, root.body.as_str()) == (200, "Hello, world!"),
        || format!("GET /: {root:?}"),
    )?;
    let path = format!("/hello/{}", percent_encode(name));
    let answer = client.get(&path).await?;
    let greeting: Greeting = serde_json::from_str(&answer.body)
        .map_err(|e| format!("GET {path}: not the JSON greeting ({e}): {answer:?}"))?;
    let want = Greeting {
        hello: name.to_owned(),
        letters: name.chars().count(),
    };
    ensure(answer.status == 200 && greeting == want, || {
        format!("GET {path}: got {greeting:?}, want {want:?}")
    })?;
    let missing = client.get("/no/such/route").await?;
    ensure(missing.status == 404, || {
        format!("GET /no/such/route: {missing:?}")
    })?;
    Ok(greeting)
}

/// Percent-encodes every byte of `s` that may not stand as is in a URL path segment.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
