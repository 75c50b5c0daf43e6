//! `serve --count-calls FILE`: DynamoDB calls per operation, measured on
//! whatever traffic the host serves (the fuzzer's, a demo's, a person's).
//! Every request, queue message and scheduled run is one counted unit
//! (`agencyops_store::counting`); on shutdown the host writes one markdown
//! row per operation: how often it succeeded and the calls each success
//! made (min, median, max; reads and writes at the median), the SQL
//! statements the embedded store ran for a success (median and most), then
//! the most any refusal made, since bad input should cost little.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use agencyops_store::counting::{counted, CallCount};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

#[derive(Default)]
struct Seen {
    ok: Vec<CallCount>,
    refused: Vec<CallCount>,
}

/// Calls per operation, shared by every counted unit of one host.
#[derive(Clone, Default)]
pub struct Tally {
    seen: Arc<Mutex<BTreeMap<String, Seen>>>,
}

impl Tally {
    /// Records one unit of `operation`, a success or not.
    pub fn record(&self, operation: &str, ok: bool, calls: CallCount) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let entry = seen.entry(operation.to_owned()).or_default();
        match ok {
            true => entry.ok.push(calls),
            false => entry.refused.push(calls),
        }
    }

    /// The markdown table the README shows.
    pub fn table(&self) -> String {
        let seen = match self.seen.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let mut out = String::from(
            "| operation | successes | calls per success: min / median / max | reads / writes at the median | SQL statements per success: median / max | refusals | most calls of a refusal |\n|---|---|---|---|---|---|---|\n",
        );
        for (op, s) in seen.iter() {
            let mut ok = s.ok.clone();
            ok.sort_by_key(CallCount::total);
            let (range, split) = match (ok.first(), ok.get(ok.len() / 2), ok.last()) {
                (Some(lo), Some(mid), Some(hi)) => (
                    format!("{} / {} / {}", lo.total(), mid.total(), hi.total()),
                    format!("{} / {}", mid.reads(), mid.writes()),
                ),
                _ => ("—".into(), "—".into()),
            };
            let mut statements: Vec<u64> = s.ok.iter().map(|c| c.statements).collect();
            statements.sort_unstable();
            let sql = match (statements.get(statements.len() / 2), statements.last()) {
                (Some(mid), Some(hi)) => format!("{mid} / {hi}"),
                _ => "—".into(),
            };
            let worst = s
                .refused
                .iter()
                .map(CallCount::total)
                .max()
                .map_or_else(|| "—".into(), |n| n.to_string());
            let _ = writeln!(
                out,
                "| `{op}` | {} | {range} | {split} | {sql} | {} | {worst} |",
                s.ok.len(),
                s.refused.len()
            );
        }
        out
    }
}

/// The middleware: each request one unit, named by its route (`POST
/// /v1/time-entries`), a success when it answers 2xx or 3xx.
pub async fn count_request(State(tally): State<Tally>, req: Request, next: Next) -> Response {
    let operation = match req.extensions().get::<MatchedPath>() {
        Some(path) => format!("{} {}", req.method(), path.as_str()),
        None => format!("{} (no route)", req.method()),
    };
    let (response, calls) = counted(next.run(req)).await;
    let status = response.status();
    // A method the route does not have is no operation of ours.
    if status == axum::http::StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    tally.record(
        &operation,
        status.is_success() || status.is_redirection(),
        calls,
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(gets: u64, transactions: u64) -> CallCount {
        CallCount {
            gets,
            transactions,
            statements: 3 * gets + 5 * transactions,
            ..CallCount::default()
        }
    }

    #[test]
    fn the_table_gives_each_operations_range_and_its_costliest_refusal() {
        let t = Tally::default();
        for n in [1, 3, 2] {
            t.record("POST /v1/time-entries", true, calls(n, 1));
        }
        t.record("POST /v1/time-entries", false, calls(1, 0));
        t.record("GET /v1/clients", false, calls(0, 0));
        let table = t.table();
        assert!(
            table.contains("| `POST /v1/time-entries` | 3 | 2 / 3 / 4 | 2 / 1 | 11 / 14 | 1 | 1 |"),
            "{table}"
        );
        assert!(
            table.contains("| `GET /v1/clients` | 0 | — | — | — | 1 | 0 |"),
            "{table}"
        );
    }
}
