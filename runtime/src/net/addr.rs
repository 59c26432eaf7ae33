//! Address resolution shared by every socket type: waza's own [`ToSocketAddrs`] and
//! [`lookup_host`].
//!
//! A literal address (`SocketAddr`, `(IpAddr, u16)`, `"127.0.0.1:80"`, `("::1", 80)`) is
//! parsed on the spot and never leaves the calling task. A host name goes to the blocking
//! pool, where the standard library's resolver (`getaddrinfo`) may take as long as DNS
//! takes without holding a worker. The trait is sealed so that this split stays an
//! implementation detail: callers only ever see `impl ToSocketAddrs`.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::Mutex;

/// Anything waza's sockets accept as an address: a literal address, or a host name to
/// resolve on the blocking pool.
///
/// Implemented for `SocketAddr`, `SocketAddrV4`, `SocketAddrV6`, `(IpAddr, u16)`,
/// `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `(&str, u16)`, `(String, u16)`, `&str` and `String`
/// (`"host:port"`), `&[SocketAddr]`, and references to any of these. The trait is sealed:
/// its method is private to waza, as in tokio.
///
/// # Examples
///
/// ```
/// use waza::net::TcpListener;
///
/// waza::block_on(async {
///     let a = TcpListener::bind("127.0.0.1:0").await?; // a literal: parsed in place
///     let b = TcpListener::bind(("localhost", 0)).await?; // a name: resolved on the pool
///     assert!(a.local_addr()?.ip().is_loopback());
///     assert!(b.local_addr()?.ip().is_loopback());
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use super::Resolve;

    /// The sealed part of [`super::ToSocketAddrs`].
    pub trait ToSocketAddrsPriv {
        /// What this value resolves to: addresses at once, or a name for the pool.
        fn to_resolve(&self) -> Resolve;
    }
}

/// What an address argument asks for (not nameable outside waza).
#[doc(hidden)]
#[derive(Debug)]
pub enum Resolve {
    /// Literal addresses, parsed in place.
    Ready(io::Result<Addrs>),
    /// A host name and port to resolve on the blocking pool.
    Name(String, u16),
}

/// One address without allocating, or several (not nameable outside waza).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub enum Addrs {
    /// A single address.
    One(SocketAddr),
    /// Any number of addresses (possibly none).
    Many(Vec<SocketAddr>),
}

impl Addrs {
    pub(crate) fn as_slice(&self) -> &[SocketAddr] {
        match self {
            Addrs::One(a) => std::slice::from_ref(a),
            Addrs::Many(v) => v,
        }
    }

    fn into_vec(self) -> Vec<SocketAddr> {
        match self {
            Addrs::One(a) => vec![a],
            Addrs::Many(v) => v,
        }
    }
}

macro_rules! literal {
    ($($ty:ty => |$this:ident| $addr:expr;)*) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::ToSocketAddrsPriv for $ty {
            fn to_resolve(&self) -> Resolve {
                let $this = self;
                Resolve::Ready(Ok(Addrs::One($addr)))
            }
        }
    )*};
}

literal! {
    SocketAddr => |a| *a;
    SocketAddrV4 => |a| SocketAddr::V4(*a);
    SocketAddrV6 => |a| SocketAddr::V6(*a);
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1);
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1);
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1);
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::ToSocketAddrsPriv for (&str, u16) {
    fn to_resolve(&self) -> Resolve {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Resolve::Ready(Ok(Addrs::One(SocketAddr::new(ip, port)))),
            Err(_) => Resolve::Name(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::ToSocketAddrsPriv for (String, u16) {
    fn to_resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).to_resolve()
    }
}

impl ToSocketAddrs for str {}
impl sealed::ToSocketAddrsPriv for str {
    fn to_resolve(&self) -> Resolve {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return Resolve::Ready(Ok(Addrs::One(addr)));
        }
        let parsed = self
            .rsplit_once(':')
            .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)));
        match parsed {
            Some((host, port)) => (host, port).to_resolve(),
            None => Resolve::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid socket address {self:?}: expected \"host:port\""),
            ))),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::ToSocketAddrsPriv for String {
    fn to_resolve(&self) -> Resolve {
        self.as_str().to_resolve()
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::ToSocketAddrsPriv for [SocketAddr] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Ready(Ok(Addrs::Many(self.to_vec())))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::ToSocketAddrsPriv for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}

/// A hook run on the blocking pool before each name lookup (tests only).
static RESOLVER_HOOK: Mutex<Option<fn(&str)>> = Mutex::new(None);

/// Installs (or with `None` removes) a function that runs on the blocking pool before
/// every host-name lookup, with the host name. For tests that need a slow resolver (there
/// is no network in CI); not part of the stable API.
#[doc(hidden)]
pub fn __set_resolver_hook(hook: Option<fn(&str)>) {
    *RESOLVER_HOOK.lock().unwrap_or_else(|e| e.into_inner()) = hook;
}

/// Resolves `host:port` with the system resolver; blocks. Runs on the blocking pool.
fn resolve_name_blocking(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let hook = *RESOLVER_HOOK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(hook) = hook {
        hook(host);
    }
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map(Iterator::collect)
        .map_err(|e| io::Error::new(e.kind(), format!("failed to resolve {host:?}: {e}")))
}

/// Every address `addr` stands for, looking names up on the blocking pool.
pub(crate) async fn resolve_any(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Addrs> {
    match addr.to_resolve() {
        Resolve::Ready(res) => res,
        Resolve::Name(host, port) => {
            crate::spawn_blocking(move || resolve_name_blocking(&host, port))
                .await
                .unwrap_or_else(|e| Err(io::Error::other(e)))
                .map(Addrs::Many)
        }
    }
}

/// [`resolve_any`], failing with `InvalidInput` if there are no addresses.
pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Addrs> {
    let addrs = resolve_any(addr).await?;
    if addrs.as_slice().is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        ));
    }
    Ok(addrs)
}

/// Looks up the addresses of `host`, on the blocking pool: the worker stays free while DNS
/// answers (or times out).
///
/// `host` is anything [`ToSocketAddrs`] accepts: `"example.com:443"`, `("localhost", 80)`,
/// or a literal address (returned as is, without a lookup).
///
/// # Errors
///
/// The resolver's error, naming the host (e.g. for an unknown name), or `InvalidInput` for
/// a string that is not `"host:port"`.
///
/// # Panics
///
/// Outside a waza runtime, for a host name (literal addresses need no runtime).
///
/// # Cancel safety
///
/// Cancel safe: a dropped lookup finishes on the pool and its answer is discarded.
///
/// # Examples
///
/// ```
/// waza::block_on(async {
///     let addrs: Vec<_> = waza::net::lookup_host("localhost:80").await?.collect();
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
///     let literal: Vec<_> = waza::net::lookup_host("10.0.0.1:7").await?.collect();
///     assert_eq!(literal, ["10.0.0.1:7".parse().unwrap()]);
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve_any(&host).await?.into_vec().into_iter())
}

/// Tries `op` on each address in turn: the first success, or the last error, naming the
/// address it failed for.
pub(crate) fn first_ok<T>(
    addrs: &Addrs,
    mut op: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for &addr in addrs.as_slice() {
        match op(addr) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(with_addr(e, addr)),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses")))
}

/// `e`, with `addr` in its message and its kind kept (e.g. `AddrInUse`).
pub(crate) fn with_addr(e: io::Error, addr: impl fmt::Display) -> io::Error {
    io::Error::new(e.kind(), format!("{addr}: {e}"))
}
