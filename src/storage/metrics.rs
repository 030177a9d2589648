//! Counters of the statements sent to the database, fed by sea-orm's metric callback: they show
//! on `/metrics`, and tests use them to prove nested queries are batched.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct DbMetrics {
    statements: AtomicU64,
    failed: AtomicU64,
    micros: AtomicU64,
}

impl DbMetrics {
    pub fn record(&self, elapsed: std::time::Duration, failed: bool) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// Statements sent so far.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Prometheus text lines.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(out, "# TYPE orgraph_db_statements_total counter");
        let _ = writeln!(out, "orgraph_db_statements_total {}", self.statements());
        let _ = writeln!(out, "# TYPE orgraph_db_statement_errors_total counter");
        let _ = writeln!(out, "orgraph_db_statement_errors_total {}", self.failed.load(Ordering::Relaxed));
        let _ = writeln!(out, "# TYPE orgraph_db_statement_seconds_total counter");
        let _ = writeln!(out, "orgraph_db_statement_seconds_total {:.6}", self.micros.load(Ordering::Relaxed) as f64 / 1e6);
    }
}
