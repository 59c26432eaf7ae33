//! The Go column: builds `benches/go/` with the `go` on PATH and drives its worker process,
//! one command per line (see `benches/go/main.go`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

/// The Go sources.
const SOURCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/go");

/// A built Go program and the GOMAXPROCS to run it with.
pub struct GoProgram {
    binary: PathBuf,
    maxprocs: usize,
    /// `go version`'s output, for the report.
    pub version: String,
}

/// Builds the Go program into `out_dir`, with the standard library only: no module proxy,
/// no toolchain download.
///
/// # Errors
///
/// A message with `go build`'s output if the build fails.
pub fn build(go: &Path, out_dir: &Path, maxprocs: usize) -> Result<GoProgram, String> {
    let binary = out_dir.join("go-bench");
    let output = go_command(go)
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(SOURCES)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", go.display()))?;
    if !output.status.success() {
        return Err(format!(
            "go build failed in {SOURCES}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let version = go_command(go)
        .arg("version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "go (version unknown)".to_owned());
    Ok(GoProgram {
        binary,
        maxprocs,
        version,
    })
}

/// `go` with the environment that keeps it offline and on the installed toolchain.
fn go_command(go: &Path) -> Command {
    let mut cmd = Command::new(go);
    cmd.env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("CGO_ENABLED", "0");
    cmd
}

impl GoProgram {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.env("GOMAXPROCS", self.maxprocs.to_string());
        cmd
    }

    /// Starts a worker process.
    ///
    /// # Panics
    ///
    /// If the binary cannot be started.
    pub fn worker(&self) -> GoWorker {
        let mut child = self
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the Go worker starts");
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        GoWorker {
            child,
            stdin,
            stdout,
        }
    }

    /// The peak RSS of a fresh Go process parking `n` goroutines (`go-bench -idle n`).
    ///
    /// # Panics
    ///
    /// If the process fails or prints no `RSS` line.
    pub fn idle_rss(&self, n: usize) -> u64 {
        let out = self
            .command()
            .args(["-idle", &n.to_string()])
            .stderr(Stdio::inherit())
            .output()
            .expect("the Go program runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "go-bench -idle {n} failed: {text}");
        text.lines()
            .find_map(|l| l.strip_prefix("RSS ")?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no RSS line from go-bench -idle {n}: {text}"))
    }
}

/// A running Go worker process.
pub struct GoWorker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl GoWorker {
    /// Sends `command` and returns the answer line's fields after its tag (`OK`, `ADDR`).
    ///
    /// # Panics
    ///
    /// If the worker died (a Go workload found a wrong result; its message is on stderr)
    /// or answered something unexpected.
    pub fn ask(&mut self, command: &str) -> Vec<String> {
        writeln!(self.stdin, "{command}")
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("Go worker gone before {command:?}: {e}"));
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("Go worker unreadable after {command:?}: {e}"));
        assert!(
            n > 0,
            "Go worker exited during {command:?} (its error is above)"
        );
        line.split_whitespace().map(str::to_owned).collect()
    }

    /// Runs one workload; its time as the Go program measured it, and any extra numbers.
    pub fn run(&mut self, command: &str) -> (Duration, Vec<u64>) {
        let answer = self.ask(command);
        assert_eq!(
            answer.first().map(String::as_str),
            Some("OK"),
            "{command}: {answer:?}"
        );
        let numbers: Vec<u64> = answer[1..]
            .iter()
            .map(|f| {
                f.parse()
                    .unwrap_or_else(|_| panic!("{command}: {answer:?}"))
            })
            .collect();
        let (&ns, extra) = numbers
            .split_first()
            .unwrap_or_else(|| panic!("{command}: no time in {answer:?}"));
        (Duration::from_nanos(ns), extra.to_vec())
    }
}

impl Drop for GoWorker {
    fn drop(&mut self) {
        // The worker keeps no state worth a clean exit.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
