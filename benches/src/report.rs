//! The result table of the `compare` program: one row per workload, one column per library,
//! each cell a measured value (a time, a memory size or a rate) or a declared "not
//! applicable" with its reason. Rendered as Markdown with the ratio of waza's cost to each
//! column's cost; [`Table::missing`] lists the cells that are neither, which the program
//! treats as an error.

use std::fmt::Write as _;
use std::time::Duration;

use crate::human;

/// A measured value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A duration (lower is better).
    Time(Duration),
    /// A memory size in bytes (lower is better).
    Bytes(u64),
    /// Events per second (higher is better).
    Rate(f64),
}

impl Value {
    /// The value as a cost: lower is better, so ratios of costs compare alike for every
    /// kind of value (a rate's cost is its inverse).
    ///
    /// # Examples
    ///
    /// ```
    /// use waza_benches::report::Value;
    /// assert_eq!(Value::Rate(4.0).cost(), 0.25);
    /// assert_eq!(Value::Bytes(4096).cost(), 4096.0);
    /// ```
    pub fn cost(self) -> f64 {
        match self {
            Value::Time(d) => d.as_secs_f64(),
            Value::Bytes(b) => b as f64,
            Value::Rate(r) => 1.0 / r.max(f64::MIN_POSITIVE),
        }
    }

    /// The value for people: `"1.25 ms"`, `"312 MiB"`, `"137k/s"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza_benches::report::Value;
    /// use std::time::Duration;
    /// assert_eq!(Value::Time(Duration::from_micros(1250)).human(), "1.25 ms");
    /// assert_eq!(Value::Bytes(3 << 20).human(), "3.00 MiB");
    /// assert_eq!(Value::Rate(137_441.0).human(), "137k/s");
    /// ```
    pub fn human(self) -> String {
        match self {
            Value::Time(d) => human(d),
            Value::Bytes(b) => {
                let mib = b as f64 / (1024.0 * 1024.0);
                format!("{} MiB", three_digits(mib))
            }
            Value::Rate(r) if r >= 1e6 => format!("{}M/s", three_digits(r / 1e6)),
            Value::Rate(r) if r >= 1e3 => format!("{}k/s", three_digits(r / 1e3)),
            Value::Rate(r) => format!("{}/s", three_digits(r)),
        }
    }
}

impl Value {
    /// The median of `values` (all of one kind) by cost; the mean of the middle two for an
    /// even count.
    ///
    /// # Panics
    ///
    /// If `values` is empty or mixes kinds.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza_benches::report::Value;
    /// let v = [Value::Rate(3.0), Value::Rate(1.0), Value::Rate(2.0), Value::Rate(10.0)];
    /// assert_eq!(Value::median(&v), Value::Rate(2.5));
    /// assert_eq!(Value::median(&[Value::Bytes(7)]), Value::Bytes(7));
    /// ```
    pub fn median(values: &[Value]) -> Value {
        assert!(!values.is_empty(), "median of no values");
        let mut v = values.to_vec();
        v.sort_by(|a, b| a.cost().total_cmp(&b.cost()));
        let mid = v.len() / 2;
        if v.len() % 2 == 1 {
            return v[mid];
        }
        match (v[mid - 1], v[mid]) {
            (Value::Time(a), Value::Time(b)) => Value::Time((a + b) / 2),
            (Value::Bytes(a), Value::Bytes(b)) => Value::Bytes(a / 2 + b / 2 + (a % 2 + b % 2) / 2),
            (Value::Rate(a), Value::Rate(b)) => Value::Rate((a + b) / 2.0),
            (a, b) => panic!("median of mixed values {a:?} and {b:?}"),
        }
    }
}

/// `v` with three significant digits (no more than two decimals).
fn three_digits(v: f64) -> String {
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$}")
}

/// One cell of the table.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// A measurement.
    Measured(Value),
    /// The library has no way to run this workload as specified; the reason says why.
    NotApplicable(String),
}

/// One row: a workload and its cells, one per column (`None`: not filled in yet).
#[derive(Clone, Debug)]
struct Row {
    name: String,
    cells: Vec<Option<Cell>>,
}

/// The result table. Column 0 is the baseline (waza).
#[derive(Clone, Debug)]
pub struct Table {
    columns: Vec<String>,
    rows: Vec<Row>,
}

impl Table {
    /// A table whose columns are `columns`; `columns[0]` is the baseline.
    ///
    /// # Panics
    ///
    /// Panics if `columns` is empty.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        let columns: Vec<String> = columns.into_iter().map(Into::into).collect();
        assert!(!columns.is_empty(), "a table needs a baseline column");
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// The column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The row names, in order.
    pub fn rows(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().map(|r| r.name.as_str())
    }

    /// Adds an empty row named `workload` (rows keep the order in which they were added);
    /// nothing happens if it exists.
    pub fn add_row(&mut self, workload: &str) {
        if !self.rows.iter().any(|r| r.name == workload) {
            self.rows.push(Row {
                name: workload.to_owned(),
                cells: vec![None; self.columns.len()],
            });
        }
    }

    /// Puts `cell` at (`workload`, `column`), adding the row if needed.
    ///
    /// # Panics
    ///
    /// Panics if `column` is not one of the table's columns.
    pub fn set(&mut self, workload: &str, column: &str, cell: Cell) {
        let c = self.column_index(column);
        self.add_row(workload);
        let row = self
            .rows
            .iter_mut()
            .find(|r| r.name == workload)
            .expect("just added");
        row.cells[c] = Some(cell);
    }

    /// The cell at (`workload`, `column`), if filled in.
    pub fn get(&self, workload: &str, column: &str) -> Option<&Cell> {
        let c = self.columns.iter().position(|n| n == column)?;
        let row = self.rows.iter().find(|r| r.name == workload)?;
        row.cells[c].as_ref()
    }

    /// waza's cost divided by `column`'s cost in row `workload`, when both are measured.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use waza_benches::report::{Cell, Table, Value};
    /// let mut t = Table::new(["waza", "tokio"]);
    /// t.set("spawn", "waza", Cell::Measured(Value::Time(Duration::from_millis(50))));
    /// t.set("spawn", "tokio", Cell::Measured(Value::Time(Duration::from_millis(100))));
    /// assert_eq!(t.ratio("spawn", "tokio"), Some(0.5));
    /// ```
    pub fn ratio(&self, workload: &str, column: &str) -> Option<f64> {
        let base = self.get(workload, &self.columns[0])?;
        let other = self.get(workload, column)?;
        match (base, other) {
            (Cell::Measured(b), Cell::Measured(o)) => {
                let (b, o) = (b.cost(), o.cost());
                if b == o {
                    Some(1.0) // also 0 / 0: two zero lateness values are level
                } else if o > 0.0 {
                    Some(b / o)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Every (row, column) that has no cell: a measurement that should be there and is not.
    ///
    /// # Examples
    ///
    /// ```
    /// use waza_benches::report::{Cell, Table};
    /// let mut t = Table::new(["waza", "Go"]);
    /// t.set("sieve", "waza", Cell::NotApplicable("why".into()));
    /// assert_eq!(t.missing(), vec![("sieve".to_owned(), "Go".to_owned())]);
    /// ```
    pub fn missing(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for row in &self.rows {
            for (c, cell) in row.cells.iter().enumerate() {
                if cell.is_none() {
                    out.push((row.name.clone(), self.columns[c].clone()));
                }
            }
        }
        out
    }

    fn column_index(&self, column: &str) -> usize {
        self.columns
            .iter()
            .position(|n| n == column)
            .unwrap_or_else(|| panic!("no column {column:?}"))
    }

    /// Renders the table as GitHub-flavoured Markdown: each cell with the ratio of waza's
    /// cost to that cell's (below 1.00× waza is better), "n/a \[k\]" with the reason listed
    /// under the table, "missing" where a cell was never filled in.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use waza_benches::report::{Cell, Table, Value};
    /// let mut t = Table::new(["waza", "tokio"]);
    /// t.set("spawn", "waza", Cell::Measured(Value::Time(Duration::from_micros(50))));
    /// t.set("spawn", "tokio", Cell::Measured(Value::Time(Duration::from_micros(100))));
    /// t.set("mpmc", "waza", Cell::Measured(Value::Time(Duration::from_micros(50))));
    /// t.set("mpmc", "tokio", Cell::NotApplicable("one receiver".into()));
    /// let md = t.to_markdown();
    /// assert!(md.contains("| spawn | 50.0 µs | 100 µs (0.50×) |"), "{md}");
    /// assert!(md.contains("| mpmc | 50.0 µs | n/a [1] |"), "{md}");
    /// assert!(md.contains("[1] one receiver"), "{md}");
    /// ```
    pub fn to_markdown(&self) -> String {
        let mut notes: Vec<&str> = Vec::new();
        let mut s = String::new();
        let _ = writeln!(s, "| workload | {} |", self.columns.join(" | "));
        let _ = writeln!(s, "|---|{}", "---:|".repeat(self.columns.len()));
        for row in &self.rows {
            let _ = write!(s, "| {} |", row.name);
            for (c, cell) in row.cells.iter().enumerate() {
                let text = match cell {
                    None => "missing".to_owned(),
                    Some(Cell::NotApplicable(why)) => {
                        let k = match notes.iter().position(|n| n == why) {
                            Some(k) => k,
                            None => {
                                notes.push(why);
                                notes.len() - 1
                            }
                        };
                        format!("n/a [{}]", k + 1)
                    }
                    Some(Cell::Measured(v)) => match self.ratio(&row.name, &self.columns[c]) {
                        Some(r) if c > 0 => format!("{} ({r:.2}×)", v.human()),
                        _ => v.human(),
                    },
                };
                let _ = write!(s, " {text} |");
            }
            s.push('\n');
        }
        if !notes.is_empty() {
            s.push('\n');
            for (k, why) in notes.iter().enumerate() {
                let _ = writeln!(s, "[{}] {why}  ", k + 1);
            }
        }
        s
    }
}
