//! Networking: TCP, UDP and Unix domain sockets on the runtime's mio reactor.
//!
//! Streams implement `futures::io::{AsyncRead, AsyncWrite}` (so `futures::io::AsyncReadExt`
//! and friends work), also through shared references (`&TcpStream`), which lets one task read
//! while another writes. Every socket is registered with the runtime that created it;
//! creating one outside a waza runtime panics.
//!
//! Errors from the OS (connection refused, address in use, …) come back as `io::Error`,
//! never as a panic. After the runtime shuts down, pending and new operations fail with an
//! error instead of waiting forever.
//!
//! `bind`, `connect` and `send_to` take waza's own sealed [`ToSocketAddrs`], as in tokio.
//! Literal addresses (`"127.0.0.1:8080"`, a `SocketAddr`, `(ip, port)`) are parsed in place;
//! host names are looked up on the blocking pool ([`lookup_host`]), so DNS never blocks a
//! worker. Errors from `bind` and `connect` name the address they failed for.
//!
//! | Go | waza |
//! |---|---|
//! | `net.Listen("tcp", addr)` | `TcpListener::bind(addr).await` |
//! | `ln.Accept()` | `listener.accept().await` |
//! | `net.Dial("tcp", addr)` | `TcpStream::connect(addr).await` |
//! | `conn.(*net.TCPConn).CloseWrite()` | `stream.shutdown(Shutdown::Write)` |
//! | `net.ListenPacket("udp", addr)` | `UdpSocket::bind(addr).await` |
//! | `net.LookupHost(host)` | `lookup_host((host, 0)).await` |

mod addr;
#[macro_use]
mod stream_io;
mod sys;
mod tcp;
mod udp;

pub use addr::{__set_resolver_hook, lookup_host, ToSocketAddrs};
pub use sys::*;
pub use tcp::{OwnedReadHalf, OwnedWriteHalf, ReuniteError, TcpListener, TcpStream};
pub use udp::UdpSocket;
