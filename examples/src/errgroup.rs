//! Go's `errgroup`: fetch several (fake) URLs in a [`Group`]; the first error cancels the
//! group's [`Context`], and every fetch still running stops.
//!
//! The Go original (`golang.org/x/sync/errgroup`, the `JustErrors` and `Parallel`
//! examples, combined):
//!
//! ```go
//! g, ctx := errgroup.WithContext(context.Background())
//! for _, url := range urls {
//!     g.Go(func() error {
//!         req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
//!         resp, err := http.DefaultClient.Do(req) // fails fast once ctx is cancelled
//!         if err == nil {
//!             resp.Body.Close()
//!         }
//!         return err
//!     })
//! }
//! if err := g.Wait(); err == nil {
//!     fmt.Println("Successfully fetched all URLs.")
//! }
//! ```
//!
//! A fetch here waits on its fake latency or on `ctx.done()`, whichever comes first; and the
//! group also drops a member's future once the context is cancelled (possibly before it
//! ever ran). Either way the fetch ends as "cancelled", which a drop guard records.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use waza::context::Context;
use waza::task::Group;
use waza::time;

use crate::cli::ensure;
use crate::{Out, Size};

/// A fake URL: how long fetching it takes, and whether it fails.
#[derive(Clone, Copy, Debug)]
pub struct Url {
    /// The address.
    pub addr: &'static str,
    /// How long the fake fetch takes.
    pub latency: Duration,
    /// Whether it ends with an error instead of a body.
    pub fails: bool,
}

/// How one fetch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetch {
    /// The body arrived.
    Fetched,
    /// The fetch returned an error.
    Failed,
    /// The group's context was cancelled first.
    Cancelled,
}

/// The outcomes, one per URL, in the order they ended.
type Log = Arc<Mutex<Vec<(&'static str, Fetch)>>>;

/// Records `Cancelled` for its URL unless told otherwise before it is dropped.
struct Record {
    url: &'static str,
    outcome: Fetch,
    log: Log,
}

impl Drop for Record {
    fn drop(&mut self) {
        self.log.lock().unwrap().push((self.url, self.outcome));
    }
}

/// Fetches `url`, giving up when `ctx` is cancelled.
///
/// The outcome record is made before the future is first polled, so a fetch the group
/// cancels before it ever ran is recorded too.
///
/// # Errors
///
/// A message naming the URL if the fetch fails or is cancelled.
///
/// # Cancel safety
///
/// Cancel safe: a dropped fetch is recorded as cancelled.
fn fetch(ctx: Context, url: Url, log: Log) -> impl Future<Output = Result<(), String>> + Send {
    let record = Record {
        url: url.addr,
        outcome: Fetch::Cancelled,
        log,
    };
    async move {
        // Move the whole record in: the block would otherwise capture only a copy of the
        // `outcome` field it assigns (disjoint capture) and drop the record right away.
        let mut record = record;
        waza::select! {
            _ = time::sleep(url.latency) => {}
            _ = ctx.done() => return Err(format!("{}: cancelled", url.addr)),
        }
        if url.fails {
            record.outcome = Fetch::Failed;
            return Err(format!("{}: no such host", url.addr));
        }
        record.outcome = Fetch::Fetched;
        Ok(())
    }
}

/// Fetches every URL in one group; returns the group's result and each URL's outcome.
///
/// # Cancel safety
///
/// Dropping the future leaves the fetches running until they end by themselves.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use waza_examples::errgroup::{fetch_all, Fetch, Url};
///
/// let bad = Url { addr: "http://bad/", latency: Duration::ZERO, fails: true };
/// let slow = Url { addr: "http://slow/", latency: Duration::from_secs(60), fails: false };
/// let (result, log) = waza::block_on(fetch_all(&[bad, slow]));
/// assert_eq!(result, Err("http://bad/: no such host".to_string()));
/// assert!(log.contains(&("http://slow/", Fetch::Cancelled)));
/// ```
pub async fn fetch_all(urls: &[Url]) -> (Result<(), String>, Vec<(&'static str, Fetch)>) {
    let log = Log::default();
    let mut g = Group::new();
    for &url in urls {
        g.spawn(fetch(g.context(), url, log.clone()));
    }
    let result = g.wait().await;
    let log = log.lock().unwrap().clone();
    (result, log)
}

/// The fake web: three fast pages, and optionally a host that does not exist and two very
/// slow pages.
fn urls(with_trouble: bool) -> Vec<Url> {
    let ms = Duration::from_millis;
    let ok = |addr, latency| Url {
        addr,
        latency,
        fails: false,
    };
    let mut urls = vec![
        ok("http://www.golang.org/", ms(2)),
        ok("http://www.google.com/", ms(4)),
        ok("http://www.example.org/", ms(1)),
    ];
    if with_trouble {
        urls.push(Url {
            addr: "http://www.somestupidname.com/",
            latency: ms(10),
            fails: true,
        });
        urls.push(ok("http://slow.example.net/a", Duration::from_secs(30)));
        urls.push(ok("http://slow.example.net/b", Duration::from_secs(30)));
    }
    urls
}

/// The whole program: a group that succeeds, then one whose missing host cancels the rest.
/// Checks the group's result, that every fetch ended exactly once, and that both slow
/// fetches were cancelled rather than waited for. (Same size quick and full.)
///
/// # Errors
///
/// A description of the first check that failed.
///
/// # Cancel safety
///
/// As [`fetch_all`].
pub async fn program(_size: Size, out: &Out) -> Result<(), String> {
    let good = urls(false);
    let (result, log) = fetch_all(&good).await;
    ensure(result.is_ok(), || format!("unexpected error {result:?}"))?;
    ensure(
        log.len() == good.len() && log.iter().all(|(_, f)| *f == Fetch::Fetched),
        || format!("{log:?}"),
    )?;
    out.line("Successfully fetched all URLs.");

    let troubled = urls(true);
    let (result, log) = fetch_all(&troubled).await;
    out.line(format!("with a missing host: {result:?}"));
    for (url, outcome) in &log {
        out.line(format!("  {outcome:?}: {url}"));
    }
    ensure(
        result == Err("http://www.somestupidname.com/: no such host".to_owned()),
        || format!("wrong first error {result:?}"),
    )?;
    for url in &troubled {
        let n = log.iter().filter(|(u, _)| u == &url.addr).count();
        ensure(n == 1, || format!("{} ended {n} times", url.addr))?;
    }
    let slow_cancelled = log
        .iter()
        .filter(|(u, f)| u.contains("slow") && *f == Fetch::Cancelled)
        .count();
    ensure(slow_cancelled == 2, || {
        format!("the slow fetches were not cancelled: {log:?}")
    })
}
