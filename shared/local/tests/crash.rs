//! `kill -9` of `agencyops serve` under a load of time-entry creates, ten
//! times over one data directory: a 201 is a promise that the entry is on
//! disk, so after every restart each acknowledged entry is there, the SQLite
//! file passes its integrity check, and every day's stored total (what the
//! 24-hour guard reads) equals the entries of that day.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use support::*;

/// Creates running at once, as several users would (at most 7: two days each).
const WRITERS: usize = 6;
const ROUNDS: u64 = 10;
/// The days entries are spread over: the ISO weeks 2026-W47 and W48.
const DAYS: [&str; 14] = [
    "2026-11-16",
    "2026-11-17",
    "2026-11-18",
    "2026-11-19",
    "2026-11-20",
    "2026-11-21",
    "2026-11-22",
    "2026-11-23",
    "2026-11-24",
    "2026-11-25",
    "2026-11-26",
    "2026-11-27",
    "2026-11-28",
    "2026-11-29",
];

/// A seeded xorshift: the kill moments differ from round to round but every
/// run of the test uses the same ones, so a failure can be repeated.
struct Moments(u64);

impl Moments {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Acked {
    id: String,
    date: String,
}

/// Creates entries until the server goes away; records each one answered 201.
async fn create_until_killed(
    http: reqwest::Client,
    base: String,
    member: String,
    project: String,
    writer: usize,
    acked: Arc<Mutex<Vec<Acked>>>,
) {
    for n in 0.. {
        // Days of its own: two creates of one day at once would race for the
        // day's total, and the loser's 409 is not what this test is about.
        let date = DAYS[writer + 7 * (n % 2)];
        let res = http
            .post(format!("{base}/v1/time-entries"))
            .bearer_auth(&member)
            .json(&json!({"project_id": project, "date": date, "minutes": 1, "note": "crash"}))
            .send()
            .await;
        let Ok(res) = res else { return };
        let status = res.status().as_u16();
        let Ok(body) = res.json::<Value>().await else {
            return;
        };
        assert_eq!(status, 201, "a create under load: {body}");
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        acked.lock().expect("acked").push(Acked {
            id,
            date: date.to_owned(),
        });
    }
}

/// The file as the killed server left it: intact, and every stored day total
/// equal to the minutes of its entries. Returns the ids of the stored entries.
fn check_file(path: &Path) -> BTreeSet<String> {
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the store read-only");
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    let rows = |sql: &str| -> Vec<(String, String, i64)> {
        let mut stmt = db.prepare(sql).expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let mut totals = BTreeMap::new();
    for (pk, sk, minutes) in rows(
        "SELECT pk, sk, json_extract(body, '$.minutes') FROM items
         WHERE pk LIKE '%#TIME' AND sk LIKE 'DAY#%'",
    ) {
        if minutes != 0 {
            totals.insert(format!("{pk} {}", &sk["DAY#".len()..]), minutes);
        }
    }
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for (pk, sk, minutes) in rows(
        "SELECT pk, sk, json_extract(body, '$.minutes') FROM items
         WHERE pk LIKE '%#TIME' AND sk LIKE 'ENTRY#%'",
    ) {
        let mut parts = sk["ENTRY#".len()..].split('#');
        let date = parts.next().unwrap_or_default();
        *sums.entry(format!("{pk} {date}")).or_default() += minutes;
        ids.insert(parts.next().unwrap_or_default().to_owned());
    }
    assert_eq!(totals, sums, "day totals equal their entries");
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_entries_survive_kill_minus_nine_ten_times() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let store = data.join("store.db");
    let http = reqwest::Client::new();
    let mut moments = Moments(0x5eed_c4a5_u64);
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();

    let (member, member_id, project) = {
        let server = Server::start(&data);
        let a = agency(&http, &server.base, &data).await;
        (a.member, a.member_id, a.project)
    };
    for round in 0..ROUNDS {
        let mut server = Server::start(&data);
        let so_far = acked.lock().expect("acked").clone();
        assert_listed(&http, &server.base, &member, &member_id, &so_far).await;
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(create_until_killed(
                    http.clone(),
                    server.base.clone(),
                    member.clone(),
                    project.clone(),
                    w,
                    acked.clone(),
                ))
            })
            .collect();
        let before = acked.lock().expect("acked").len();
        tokio::time::sleep(Duration::from_millis(150 + moments.next() % 250)).await;
        server.child.kill().expect("kill -9");
        server.child.wait().expect("reaped");
        for w in writers {
            w.await.expect("writer");
        }
        let after = acked.lock().expect("acked").len();
        assert!(
            after > before,
            "round {round}: creates were acknowledged before the kill"
        );
        let stored = check_file(&store);
        let acked = acked.lock().expect("acked").clone();
        for a in &acked {
            assert!(
                stored.contains(&a.id),
                "round {round}: acknowledged {a:?} is not in the file"
            );
        }
        eprintln!(
            "round {round}: {} acknowledged, {} stored",
            acked.len(),
            stored.len()
        );
        // Besides them, at most the creates in flight at each kill.
        let in_flight = WRITERS * usize::try_from(round + 1).unwrap_or(usize::MAX);
        assert!(
            stored.len() <= acked.len() + in_flight,
            "round {round}: {} stored, {} acknowledged",
            stored.len(),
            acked.len()
        );
    }

    let server = Server::start(&data);
    let acked = acked.lock().expect("acked").clone();
    assert_listed(&http, &server.base, &member, &member_id, &acked).await;
    let (status, one) = send(
        http.get(format!("{}/v1/time-entries/{}", server.base, acked[0].id))
            .bearer_auth(&member),
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["date"], acked[0].date.as_str());
}

/// Every acknowledged entry is on its timesheet, read over the API.
async fn assert_listed(
    http: &reqwest::Client,
    base: &str,
    member: &str,
    member_id: &str,
    acked: &[Acked],
) {
    let mut listed = BTreeSet::new();
    for week in ["2026-W47", "2026-W48"] {
        let (status, sheet) = send(
            http.get(format!("{base}/v1/timesheets/{member_id}/{week}"))
                .bearer_auth(member),
        )
        .await;
        assert_eq!(status, 200, "{sheet}");
        for e in sheet["entries"].as_array().into_iter().flatten() {
            listed.insert(e["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    for a in acked {
        assert!(
            listed.contains(&a.id),
            "acknowledged entry {a:?} is not listed after the restart"
        );
    }
}
