//! The command line every example shares: a few known flags and at most a few numbers.
//!
//! Bad arguments print the example's usage and exit with status 2 (as Go's `flag` package
//! does); `-h`/`--help` prints it and exits 0. A finished example reports its own check
//! through [`exit_status`]: 0 when the result was right, 1 with the reason on stderr when not.

use std::process::ExitCode;

use crate::Size;

/// A flag an example accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// `--quick`: the short form of a long example (used by the tests and the tour).
    Quick,
    /// `--demo`: a server starts its own clients, checks what they saw, and exits.
    Demo,
}

impl Flag {
    fn spelling(self) -> &'static str {
        match self {
            Flag::Quick => "--quick",
            Flag::Demo => "--demo",
        }
    }
}

/// A positional number an example accepts, with its allowed range.
#[derive(Clone, Copy, Debug)]
pub struct Number {
    /// Its name in the usage line, e.g. `"N"`.
    pub name: &'static str,
    /// The smallest value accepted.
    pub min: u64,
    /// The largest value accepted.
    pub max: u64,
}

/// What an example accepts on its command line.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// The binary's name.
    pub program: &'static str,
    /// The flags it accepts.
    pub flags: &'static [Flag],
    /// The optional positional numbers it accepts, in order.
    pub numbers: &'static [Number],
}

impl Usage {
    /// An example that accepts only `--quick`.
    pub const fn quick(program: &'static str) -> Usage {
        Usage {
            program,
            flags: &[Flag::Quick],
            numbers: &[],
        }
    }

    /// A server example that accepts only `--demo`.
    pub const fn demo(program: &'static str) -> Usage {
        Usage {
            program,
            flags: &[Flag::Demo],
            numbers: &[],
        }
    }

    /// The usage line, e.g. `usage: sieve [--quick] [N]   (N: 1..=10000)`.
    pub fn line(&self) -> String {
        let mut line = format!("usage: {}", self.program);
        for flag in self.flags {
            line += &format!(" [{}]", flag.spelling());
        }
        for n in self.numbers {
            line += &format!(" [{}]", n.name);
        }
        for n in self.numbers {
            line += &format!("   ({}: {}..={})", n.name, n.min, n.max);
        }
        line
    }

    /// Parses `args` (without the program name).
    ///
    /// # Errors
    ///
    /// [`Parsed::Help`] for `-h`/`--help`; `Err` with a one-line reason for an unknown
    /// flag, a flag given twice, a non-number, a number out of range or too many numbers.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza_examples::cli::{Flag, Number, Parsed, Usage};
    ///
    /// const USAGE: Usage = Usage {
    ///     program: "sieve",
    ///     flags: &[Flag::Quick],
    ///     numbers: &[Number { name: "N", min: 1, max: 100 }],
    /// };
    /// let Ok(Parsed::Run(args)) = USAGE.parse(["--quick", "7"].map(String::from)) else {
    ///     panic!()
    /// };
    /// assert!(args.quick());
    /// assert_eq!(args.number(0), Some(7));
    /// assert!(USAGE.parse(["abc".to_string()]).is_err());
    /// assert!(USAGE.parse(["101".to_string()]).is_err());
    /// assert!(USAGE.parse(["--demo".to_string()]).is_err());
    /// ```
    pub fn parse(&self, args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
        let mut parsed = Args::default();
        for arg in args {
            if arg == "-h" || arg == "--help" {
                return Ok(Parsed::Help);
            }
            if let Some(&flag) = self.flags.iter().find(|f| f.spelling() == arg) {
                if parsed.flags.contains(&flag) {
                    return Err(format!("{arg} given twice"));
                }
                parsed.flags.push(flag);
            } else if arg.starts_with('-') {
                return Err(format!("unknown flag {arg:?}"));
            } else {
                let Some(spec) = self.numbers.get(parsed.numbers.len()) else {
                    return Err(format!("unexpected argument {arg:?}"));
                };
                parsed.numbers.push(spec.parse(&arg)?);
            }
        }
        Ok(Parsed::Run(parsed))
    }

    /// Parses the process's arguments; prints the usage and exits on `--help` (status 0) or
    /// bad arguments (status 2, with the reason).
    pub fn args(&self) -> Args {
        match self.parse(std::env::args().skip(1)) {
            Ok(Parsed::Run(args)) => args,
            Ok(Parsed::Help) => {
                println!("{}", self.line());
                std::process::exit(0)
            }
            Err(reason) => {
                eprintln!("{}: {reason}\n{}", self.program, self.line());
                std::process::exit(2)
            }
        }
    }
}

impl Number {
    fn parse(&self, arg: &str) -> Result<u64, String> {
        match arg.parse::<u64>() {
            Ok(n) if (self.min..=self.max).contains(&n) => Ok(n),
            Ok(n) => Err(format!(
                "{} = {n} is out of range {}..={}",
                self.name, self.min, self.max
            )),
            Err(_) => Err(format!("{} must be a number, not {arg:?}", self.name)),
        }
    }
}

/// The outcome of parsing a command line.
#[derive(Clone, Debug)]
pub enum Parsed {
    /// Run with these arguments.
    Run(Args),
    /// `-h` or `--help` was given.
    Help,
}

/// A parsed command line.
#[derive(Clone, Debug, Default)]
pub struct Args {
    flags: Vec<Flag>,
    numbers: Vec<u64>,
}

impl Args {
    /// Whether `--quick` was given.
    pub fn quick(&self) -> bool {
        self.flags.contains(&Flag::Quick)
    }

    /// Whether `--demo` was given.
    pub fn demo(&self) -> bool {
        self.flags.contains(&Flag::Demo)
    }

    /// [`Size::Quick`] if `--quick` was given, else [`Size::Full`].
    pub fn size(&self) -> Size {
        if self.quick() {
            Size::Quick
        } else {
            Size::Full
        }
    }

    /// The `i`-th positional number, if given.
    pub fn number(&self, i: usize) -> Option<u64> {
        self.numbers.get(i).copied()
    }
}

/// The process exit status for an example's self-check: success, or failure with the
/// reason printed to stderr.
///
/// # Examples
///
/// ```
/// use std::process::ExitCode;
/// assert_eq!(waza_examples::cli::exit_status(Ok(())), ExitCode::SUCCESS);
/// ```
pub fn exit_status(check: Result<(), String>) -> ExitCode {
    match check {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("CHECK FAILED: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// Fails with `what` unless `ok`: the one-line form of an example's checks.
///
/// # Errors
///
/// `Err(what)` when `ok` is false.
///
/// # Examples
///
/// ```
/// use waza_examples::cli::ensure;
/// assert!(ensure(1 + 1 == 2, || "arithmetic").is_ok());
/// assert_eq!(ensure(false, || "no"), Err("no".to_string()));
/// ```
pub fn ensure<S: Into<String>>(ok: bool, what: impl FnOnce() -> S) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what().into())
    }
}
