//! Child processes: [`Command`] builds and starts one; [`Child`] waits for it on the
//! reactor and exposes its standard streams as futures-io pipes.
//!
//! A child's exit is noticed through the reactor: a pidfd on Linux, SIGCHLD elsewhere; no
//! thread waits per child. A [`Child`] dropped before it was waited for is reaped anyway
//! (by a small task on the runtime, or at the next spawn if no runtime is left), so no
//! zombie outlives its use; with [`Command::kill_on_drop`] it is killed first.
//!
//! | Go | waza |
//! |---|---|
//! | `exec.Command("ls", "-l")` | `Command::new("ls").arg("-l")` |
//! | `cmd.Output()` | `cmd.output().await` |
//! | `cmd.Run()` | `cmd.status().await` |
//! | `cmd.Start()` / `cmd.Wait()` | `cmd.spawn()` / `child.wait().await` |
//! | `cmd.StdoutPipe()` | `cmd.stdout(Stdio::piped())`, then `child.stdout.take()` |
//! | `cmd.Process.Kill()` | `child.start_kill()` (or `child.kill().await`, which also waits) |

mod exit;
mod pipe;

pub use exit::__force_sigchld;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures_util::io::AsyncReadExt;

use exit::ExitWatch;

/// Children dropped where no runtime could reap them; retried at every spawn.
static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// A process builder: std's `Command` with async `spawn`/`status`/`output`.
///
/// # Examples
///
/// ```
/// use waza::process::Command;
///
/// waza::block_on(async {
///     let out = Command::new("sh").args(["-c", "echo hi; exit 3"]).output().await?;
///     assert_eq!(out.stdout, b"hi\n");
///     assert_eq!(out.status.code(), Some(3));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Whether `stdin` was called (`output` then keeps the caller's choice).
    stdin_set: bool,
}

impl Command {
    /// A command that runs `program` (found on `PATH` unless it has a `/`).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_on_drop: false,
            stdin_set: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment.
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's standard input (`Stdio::piped()` gives [`Child::stdin`]).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// Sets the child's standard output (`Stdio::piped()` gives [`Child::stdout`]).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// Sets the child's standard error (`Stdio::piped()` gives [`Child::stderr`]).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] (or a `status`/`output` future) before the child
    /// exited kills it (SIGKILL). Off by default: the child runs on and is reaped when it
    /// exits.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The std builder, for options not mirrored here (`CommandExt::uid`, `pre_exec`, …).
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The std builder, mutably.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child. Its stdio is inherited unless set otherwise.
    ///
    /// # Errors
    ///
    /// If the program cannot be started (e.g. `NotFound`), naming the program; or if its
    /// pipes or exit watch cannot be registered.
    ///
    /// # Panics
    ///
    /// Outside a waza runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::io::AsyncReadExt;
    /// use waza::process::{Command, Stdio};
    ///
    /// waza::block_on(async {
    ///     let mut child = Command::new("sh")
    ///         .args(["-c", "echo out"])
    ///         .stdout(Stdio::piped())
    ///         .spawn()?;
    ///     let mut s = String::new();
    ///     child.stdout.take().unwrap().read_to_string(&mut s).await?;
    ///     assert!(child.wait().await?.success());
    ///     assert_eq!(s, "out\n");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        reap_orphans();
        let mut std = self.std.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("failed to start {:?}: {e}", self.std.get_program()),
            )
        })?;
        let stdio = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        // From here on, dropping `child` (on an error) reaps or queues the process.
        let mut child = Child {
            inner: Some(ChildInner { exit: None, std }),
            stdin: None,
            stdout: None,
            stderr: None,
            kill_on_drop: self.kill_on_drop,
            status: None,
        };
        let inner = child.inner.as_mut().expect("just set");
        inner.exit = Some(ExitWatch::new(&inner.std)?);
        child.stdin = stdio.0.map(ChildStdin::new).transpose()?;
        child.stdout = stdio.1.map(ChildStdout::new).transpose()?;
        child.stderr = stdio.2.map(ChildStderr::new).transpose()?;
        Ok(child)
    }

    /// Runs the child to completion (stdio inherited unless set) and returns its status.
    ///
    /// # Errors
    ///
    /// As [`Command::spawn`], or an error while waiting.
    ///
    /// # Cancel safety
    ///
    /// A dropped future leaves the child running (and reaped later), or kills it with
    /// [`Command::kill_on_drop`].
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let status = waza::process::Command::new("sh").args(["-c", "exit 0"]).status().await?;
    ///     assert!(status.success());
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        drop(child.stdin.take());
        child.wait().await
    }

    /// Runs the child with its stdout and stderr captured (stdin empty unless set) and
    /// returns both with its status. Like std's, this sets the builder's stdout and stderr
    /// to `Stdio::piped()` (and stdin, if never set, to `Stdio::null()`).
    ///
    /// # Errors
    ///
    /// As [`Command::spawn`], or an error while reading or waiting.
    ///
    /// # Cancel safety
    ///
    /// As [`Command::status`].
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let out = waza::process::Command::new("sh").args(["-c", "echo e >&2"]).output().await?;
    ///     assert_eq!(out.stderr, b"e\n");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        self.std.stdout(Stdio::piped()).stderr(Stdio::piped());
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        let child = self.spawn()?;
        child.wait_with_output().await
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

/// A running (or finished) child process; see [`Command::spawn`].
pub struct Child {
    /// `None` once reaped.
    inner: Option<ChildInner>,
    /// The child's stdin, if it was `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
    kill_on_drop: bool,
    /// The exit status, once reaped.
    status: Option<ExitStatus>,
}

struct ChildInner {
    /// Invariant: `Some` once `spawn` returned the `Child`.
    exit: Option<ExitWatch>,
    std: std::process::Child,
}

impl Child {
    /// The OS process id; `None` once the child has been reaped (the id may then name
    /// another process).
    pub fn id(&self) -> Option<u32> {
        self.inner.as_ref().map(|i| i.std.id())
    }

    /// The exit status if the child has exited (reaping it), without waiting.
    ///
    /// # Errors
    ///
    /// The OS error of `waitpid`.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let Some(inner) = &mut self.inner else {
            unreachable!("a child without a status is not reaped")
        };
        let status = inner.std.try_wait()?;
        if let Some(status) = status {
            self.reaped(status);
        }
        Ok(status)
    }

    fn reaped(&mut self, status: ExitStatus) {
        self.status = Some(status);
        self.inner = None;
    }

    /// Waits for the child to exit and returns its status. Closes the child's stdin first
    /// (if piped), so a child reading it sees end-of-file.
    ///
    /// # Errors
    ///
    /// The OS error of `waitpid`, or an error if the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a later `wait` (or `try_wait`) still gets the status.
    ///
    /// # Examples
    ///
    /// ```
    /// waza::block_on(async {
    ///     let mut child = waza::process::Command::new("sh").args(["-c", "exit 7"]).spawn()?;
    ///     assert_eq!(child.wait().await?.code(), Some(7));
    ///     assert_eq!(child.id(), None);
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        std::future::poll_fn(|cx| self.poll_wait(cx)).await
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status {
            return Poll::Ready(Ok(status));
        }
        let Some(inner) = &mut self.inner else {
            unreachable!("a child without a status is not reaped")
        };
        let exit = inner.exit.as_mut().expect("exit watch set at spawn");
        let status = std::task::ready!(exit.poll_exit(cx, &mut inner.std))?;
        self.reaped(status);
        Poll::Ready(Ok(status))
    }

    /// Waits for the child while reading all of its piped stdout and stderr.
    ///
    /// # Errors
    ///
    /// As [`Child::wait`], or a read error.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: output read so far is lost with the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza::process::{Command, Stdio};
    ///
    /// waza::block_on(async {
    ///     let child = Command::new("sh").args(["-c", "echo a"]).stdout(Stdio::piped()).spawn()?;
    ///     assert_eq!(child.wait_with_output().await?.stdout, b"a\n");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        async fn read_all<R: futures_io::AsyncRead + Unpin>(r: Option<R>) -> io::Result<Vec<u8>> {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                r.read_to_end(&mut buf).await?;
            }
            Ok(buf)
        }
        drop(self.stdin.take());
        let (out, err) = (self.stdout.take(), self.stderr.take());
        let (stdout, stderr, status) =
            futures_util::future::try_join3(read_all(out), read_all(err), self.wait()).await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Sends SIGKILL to the child without waiting for it to exit.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the child has already been reaped; the OS error otherwise.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Some(inner) => inner.std.kill(),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the child has already exited and been reaped",
            )),
        }
    }

    /// Kills the child (SIGKILL) and waits for it to exit.
    ///
    /// # Errors
    ///
    /// As [`Child::start_kill`] and [`Child::wait`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the signal is sent at the first poll; a later `wait` reaps.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    ///
    /// waza::block_on(async {
    ///     let mut child = waza::process::Command::new("sleep").arg("100").spawn()?;
    ///     child.kill().await?;
    ///     assert_eq!(child.wait().await?.signal(), Some(9));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut inner) = self.inner.take() else {
            return;
        };
        if self.kill_on_drop {
            let _ = inner.std.kill();
        }
        if let Ok(Some(_)) = inner.std.try_wait() {
            return;
        }
        match crate::Handle::try_current() {
            Some(handle) if inner.exit.is_some() => drop(handle.spawn(Orphan(Some(inner)).reap())),
            _ => lock_orphans().push(inner.std),
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &self.status)
            .finish()
    }
}

/// A dropped child still running: a task waits for it through its exit watch. If that
/// task is itself dropped first (runtime shutdown), the child joins [`ORPHANS`].
struct Orphan(Option<ChildInner>);

impl Orphan {
    async fn reap(mut self) {
        std::future::poll_fn(|cx| {
            let inner = self.0.as_mut().expect("orphan present until reaped");
            let exit = inner.exit.as_mut().expect("exit watch set at spawn");
            exit.poll_exit(cx, &mut inner.std)
        })
        .await
        .ok();
        self.0 = None;
    }
}

impl Drop for Orphan {
    fn drop(&mut self) {
        if let Some(inner) = self.0.take() {
            lock_orphans().push(inner.std);
        }
    }
}

fn lock_orphans() -> std::sync::MutexGuard<'static, Vec<std::process::Child>> {
    ORPHANS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reaps every queued orphan that has exited.
fn reap_orphans() {
    let mut orphans = lock_orphans();
    orphans.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
}
