//! A TCP chat server: one broadcaster task owns the set of clients; connection handlers
//! join, leave and post messages over channels, so no lock guards the set.
//!
//! The Go original (Donovan & Kernighan, "The Go Programming Language", gopl.io/ch8/chat):
//!
//! ```go
//! type client chan<- string // an outgoing message channel
//!
//! var (
//!     entering = make(chan client)
//!     leaving  = make(chan client)
//!     messages = make(chan string) // all incoming client messages
//! )
//!
//! func broadcaster() {
//!     clients := make(map[client]bool) // all connected clients
//!     for {
//!         select {
//!         case msg := <-messages:
//!             for cli := range clients {
//!                 cli <- msg
//!             }
//!         case cli := <-entering:
//!             clients[cli] = true
//!         case cli := <-leaving:
//!             delete(clients, cli)
//!             close(cli)
//!         }
//!     }
//! }
//!
//! func handleConn(conn net.Conn) {
//!     ch := make(chan string) // outgoing client messages
//!     go clientWriter(conn, ch)
//!     who := conn.RemoteAddr().String()
//!     ch <- "You are " + who
//!     messages <- who + " has arrived"
//!     entering <- ch
//!     input := bufio.NewScanner(conn)
//!     for input.Scan() {
//!         messages <- who + ": " + input.Text()
//!     }
//!     leaving <- ch
//!     messages <- who + " has left"
//!     conn.Close()
//! }
//!
//! func clientWriter(conn net.Conn, ch <-chan string) {
//!     for msg := range ch {
//!         fmt.Fprintln(conn, msg)
//!     }
//! }
//! ```
//!
//! Two changes. A handler enters the set before it announces the arrival, so a client sees
//! its own arrival and, once it has, every later message (which makes the demo's
//! transcripts exact). And the broadcaster returns once every handler and the accept loop
//! are gone (each closed input switches its `select!` arm off), so the server can stop.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use futures::StreamExt;
use waza::chan::{self, Receiver, Sender};
use waza::context::Context;
use waza::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
use waza::time;

use crate::cli::ensure;
use crate::Out;

/// A client as the broadcaster knows it: an id and its outgoing message channel.
struct Client {
    id: u64,
    outgoing: Sender<String>,
}

/// The broadcaster's three inputs (Go's package-level channels).
#[derive(Clone)]
struct Hub {
    entering: Sender<Client>,
    leaving: Sender<u64>,
    messages: Sender<String>,
}

/// Owns the set of clients; returns the most clients it had at once when every input has
/// closed.
async fn broadcaster(
    entering: Receiver<Client>,
    leaving: Receiver<u64>,
    messages: Receiver<String>,
) -> usize {
    let mut clients: HashMap<u64, Sender<String>> = HashMap::new();
    let (mut peak, mut open) = (0, [true; 3]);
    while open.iter().any(|&o| o) {
        waza::select! {
            msg = messages.recv(), if open[0] => match msg {
                Some(msg) => for cli in clients.values() {
                    let _ = cli.send(msg.clone()).await;
                },
                None => open[0] = false,
            },
            cli = entering.recv(), if open[1] => match cli {
                Some(cli) => {
                    clients.insert(cli.id, cli.outgoing);
                    peak = peak.max(clients.len());
                }
                None => open[1] = false,
            },
            id = leaving.recv(), if open[2] => match id {
                // Go's close(cli): the channel closes once the handler's sender is gone too.
                Some(id) => drop(clients.remove(&id)),
                None => open[2] = false,
            },
        }
    }
    peak
}

/// Writes every message of `ch` to the connection, one per line, until `ch` closes.
async fn client_writer(mut conn: OwnedWriteHalf, ch: Receiver<String>) {
    while let Some(msg) = ch.recv().await {
        if conn.write_all(format!("{msg}\n").as_bytes()).await.is_err() {
            return;
        }
    }
} // dropping the write half shuts the connection's sending side: the client sees EOF

/// Serves one connection.
async fn handle_conn(conn: TcpStream, id: u64, hub: Hub) {
    let Ok(who) = conn.peer_addr().map(|a| a.to_string()) else {
        return;
    };
    let (rd, wr) = conn.into_split();
    let (ch, outgoing) = chan::bounded(16);
    let writer = waza::go!(client_writer(wr, outgoing));
    let me = Client {
        id,
        outgoing: ch.clone(),
    };
    if hub.entering.send(me).await.is_err() {
        return;
    }
    let _ = ch.send(format!("You are {who}")).await;
    let _ = hub.messages.send(format!("{who} has arrived")).await;
    let mut input = BufReader::new(rd).lines();
    while let Some(Ok(line)) = input.next().await {
        let _ = hub.messages.send(format!("{who}: {line}")).await;
    }
    let _ = hub.leaving.send(id).await;
    let _ = hub.messages.send(format!("{who} has left")).await;
    drop(ch);
    let _ = writer.await;
}

/// Accepts connections until `ctx` ends; the broadcaster task's handle comes back with the
/// count of connections, to be awaited once every client is gone.
///
/// # Errors
///
/// An error from `accept`.
///
/// # Cancel safety
///
/// Cancel safe: running connections keep going.
pub async fn serve(
    listener: TcpListener,
    ctx: Context,
) -> io::Result<(u64, waza::JoinHandle<usize>)> {
    let (entering, entering_rx) = chan::rendezvous();
    let (leaving, leaving_rx) = chan::rendezvous();
    let (messages, messages_rx) = chan::rendezvous();
    let broadcaster = waza::go!(broadcaster(entering_rx, leaving_rx, messages_rx));
    let hub = Hub {
        entering,
        leaving,
        messages,
    };
    let mut accepted = 0;
    loop {
        let (conn, _peer) = waza::select! {
            res = listener.accept() => res?,
            _ = ctx.done() => return Ok((accepted, broadcaster)),
        };
        accepted += 1;
        waza::go!(handle_conn(conn, accepted, hub.clone()));
    }
}

/// A demo client: its name (its address, as the server sees it), what it has read, and
/// its two halves.
struct Chatter {
    name: String,
    gone: bool,
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
    transcript: Vec<String>,
}

impl Chatter {
    async fn connect(addr: SocketAddr) -> io::Result<Chatter> {
        let conn = TcpStream::connect(addr).await?;
        let name = conn.local_addr()?.to_string();
        let (rd, writer) = conn.into_split();
        Ok(Chatter {
            name,
            gone: false,
            lines: BufReader::new(rd).lines(),
            writer,
            transcript: Vec::new(),
        })
    }

    /// Reads lines until `line` (or the end, which is an error).
    async fn read_until(&mut self, line: &str) -> Result<(), String> {
        loop {
            match self.lines.next().await {
                Some(Ok(got)) => {
                    let done = got == line;
                    self.transcript.push(got);
                    if done {
                        return Ok(());
                    }
                }
                _ => {
                    return Err(format!(
                        "{} waited for {line:?}, got the end after {:?}",
                        self.name, self.transcript
                    ))
                }
            }
        }
    }

    /// Reads everything up to the end of the connection.
    async fn read_to_end(&mut self) -> Result<(), String> {
        while let Some(got) = self.lines.next().await {
            self.transcript.push(got.map_err(|e| e.to_string())?);
        }
        Ok(())
    }

    async fn say(&mut self, text: &str) -> Result<(), String> {
        let line = format!("{text}\n");
        self.writer
            .write_all(line.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        self.read_until(&format!("{}: {text}", self.name)).await
    }

    /// Leaves the chat: stops sending and reads the rest.
    async fn leave(&mut self) -> Result<(), String> {
        self.gone = true;
        self.writer.close().await.map_err(|e| e.to_string())?;
        self.read_to_end().await
    }
}

/// The demo's script: three clients join one by one, each says hello, then they leave one
/// by one. Returns the three transcripts.
async fn script(addr: SocketAddr) -> Result<Vec<Chatter>, String> {
    let mut cs: Vec<Chatter> = Vec::new();
    for _ in 0..3 {
        let mut c = Chatter::connect(addr).await.map_err(|e| e.to_string())?;
        let name = c.name.clone();
        c.read_until(&format!("{name} has arrived")).await?;
        for other in &mut cs {
            other.read_until(&format!("{name} has arrived")).await?;
        }
        cs.push(c);
    }
    for i in 0..3 {
        cs[i].say("hello").await?;
        let said = format!("{}: hello", cs[i].name);
        for (j, c) in cs.iter_mut().enumerate() {
            if j != i {
                c.read_until(&said).await?;
            }
        }
    }
    for leaver in [2, 0, 1] {
        cs[leaver].leave().await?;
        let left = format!("{} has left", cs[leaver].name);
        for c in cs.iter_mut().filter(|c| !c.gone) {
            c.read_until(&left).await?;
        }
    }
    Ok(cs)
}

/// What each client must have seen, given the names `[a, b, c]` in joining order.
fn expected(names: &[String]) -> Vec<Vec<String>> {
    let [a, b, c] = [&names[0], &names[1], &names[2]];
    let hellos = [
        format!("{a}: hello"),
        format!("{b}: hello"),
        format!("{c}: hello"),
    ];
    let mut seen = vec![
        vec![format!("You are {a}"), format!("{a} has arrived")],
        vec![format!("You are {b}"), format!("{b} has arrived")],
        vec![format!("You are {c}"), format!("{c} has arrived")],
    ];
    seen[0].push(format!("{b} has arrived"));
    seen[0].push(format!("{c} has arrived"));
    seen[1].push(format!("{c} has arrived"));
    for s in &mut seen {
        s.extend(hellos.iter().cloned());
    }
    seen[0].push(format!("{c} has left"));
    seen[1].push(format!("{c} has left"));
    seen[1].push(format!("{a} has left"));
    seen
}

/// The demo: a chat server on 127.0.0.1 (any free port) and three scripted clients. Checks
/// every client's transcript line by line, then stops the server and checks that the
/// broadcaster returned, having served three clients at its peak.
///
/// # Errors
///
/// A description of the first check that failed (or of an I/O error or a 10 s timeout).
///
/// # Cancel safety
///
/// Dropping the future leaves the server running until its tasks end by themselves.
pub async fn demo(out: &Out) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    out.line(format!("chat server listening on {addr}"));
    let (ctx, cancel) = Context::background().with_cancel();
    let server = waza::go!(serve(listener, ctx));
    let limit = Duration::from_secs(10);
    let cs = time::timeout(limit, script(addr))
        .await
        .map_err(|_| "the chat script timed out")??;
    let names: Vec<String> = cs.iter().map(|c| c.name.clone()).collect();
    for (c, want) in cs.iter().zip(expected(&names)) {
        out.line(format!("{} saw:", c.name));
        for line in &c.transcript {
            out.line(format!("  {line}"));
        }
        ensure(c.transcript == want, || {
            format!("{} saw {:?}, expected {want:?}", c.name, c.transcript)
        })?;
    }
    cancel.cancel();
    let (accepted, broadcaster) = server
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let peak = time::timeout(limit, broadcaster)
        .await
        .map_err(|_| "the broadcaster did not stop")?
        .map_err(|e| e.to_string())?;
    out.line(format!(
        "server stopped: {accepted} connections, at most {peak} clients at once"
    ));
    ensure(accepted == 3 && peak == 3, || {
        format!("accepted {accepted}, peak {peak}")
    })
}

/// Serves on 127.0.0.1 (any free port) until the process is killed.
///
/// # Errors
///
/// An error from binding or accepting.
pub async fn serve_forever() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    println!("chat server listening on 127.0.0.1:{port}; try: nc 127.0.0.1 {port}");
    serve(listener, Context::background()).await?;
    Ok(())
}
