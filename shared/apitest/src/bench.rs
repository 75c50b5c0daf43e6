//! Latency measurement for the bench binaries: time an operation n times and
//! print the README's table, failing the run when a p99 goal is missed.

use std::future::Future;
use std::time::{Duration, Instant};

pub struct Row {
    pub name: &'static str,
    pub goal_p99: Duration,
    pub samples: Vec<Duration>,
}

impl Row {
    pub fn pct(&self, p: f64) -> Duration {
        let mut s = self.samples.clone();
        s.sort();
        let i = ((s.len() as f64 - 1.0) * p).round() as usize;
        s.get(i).copied().unwrap_or_default()
    }
}

/// Runs `op(0..n)` one after another and records each duration.
pub async fn measure<F, Fut>(name: &'static str, goal_p99_ms: u64, n: usize, mut op: F) -> Row
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        op(i).await;
        samples.push(t.elapsed());
    }
    Row {
        name,
        goal_p99: Duration::from_millis(goal_p99_ms),
        samples,
    }
}

/// Prints the Markdown table and exits non-zero if any goal was missed.
pub fn report(rows: &[Row]) {
    println!("| operation | p50 | p99 | goal (p99) | met |");
    println!("|---|---|---|---|---|");
    let mut all_met = true;
    for r in rows {
        let (p50, p99) = (r.pct(0.5), r.pct(0.99));
        let met = p99 <= r.goal_p99;
        all_met &= met;
        println!(
            "| {} | {:.2} ms | {:.2} ms | {} ms | {} |",
            r.name,
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            r.goal_p99.as_millis(),
            if met { "yes" } else { "NO" }
        );
    }
    if !all_met {
        std::process::exit(1);
    }
}
