//! `agencyops-load`: drives a running (release) `agencyops serve` over HTTP
//! with N connections and prints one markdown table row per scenario: req/s,
//! p50/p99/max latency, errors and the server's peak RSS (VmHWM from
//! /proc/<pid>/status, so it must run on the server's host).
//!
//! It starts no server: `tests/load.sh` builds and starts one on a fresh data
//! directory and passes its pid. The bench seeds what it needs over the API
//! (people, a client, projects; tokens come from `agencyops token` on the
//! same data directory), then runs the scenarios named on the command line:
//!
//! * `creates`: time-entry creates, each connection as its own team member.
//! * `mix`: 70 % reads (the member's timesheet, their entry list, the WIP
//!   report) and 30 % creates.
//! * `drafts`: invoice drafts of `--draft-entries` approved entries, drafted
//!   and deleted again in a loop, while the other connections create entries.
//! * `soak`: the mix for `--secs`, the server's RSS sampled every 5 s; growth
//!   is the largest sample after `--warmup` seconds against the one at it.
//!
//! A missed goal prints "NO"; it does not fail the run (the figures are the
//! point). Errors (anything but 2xx) are counted, and the first few printed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use jiff::civil::Date;
use serde_json::{json, Value};

#[derive(Parser)]
#[command(about = "Load bench for a running `agencyops serve`")]
struct Args {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    base: String,
    /// The `agencyops` binary, for `agencyops token`.
    #[arg(long)]
    bin: PathBuf,
    /// The server's data directory (its tokens are signed with its key).
    #[arg(long)]
    data: PathBuf,
    /// The server's pid, for its RSS.
    #[arg(long)]
    pid: u32,
    #[arg(long, default_value_t = 16)]
    conns: usize,
    /// Length of each scenario (the soak's too).
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Soak: seconds before the RSS baseline is taken.
    #[arg(long, default_value_t = 60)]
    warmup: u64,
    #[arg(long, default_value_t = 500)]
    draft_entries: usize,
    /// Threads of the bench's own runtime (it shares the machine with the server).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    #[arg(required = true)]
    scenarios: Vec<Scenario>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Creates,
    Mix,
    Drafts,
    Soak,
}

fn main() -> Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    let seed = Seed::make(&args).await?;
    let mut workers = seed.workers.clone();
    for scenario in &args.scenarios {
        match scenario {
            Scenario::Creates => {
                let stats = drive(&seed, &mut workers, args.secs, |_| Op::Create).await;
                row(&args, "creates", &stats, Goal::creates())?;
            }
            Scenario::Mix => {
                let stats = drive(&seed, &mut workers, args.secs, mix_op).await;
                row(&args, "mix 70/30", &stats, Goal::errors_and_rss())?;
            }
            Scenario::Drafts => drafts(&args, &seed, &mut workers).await?,
            Scenario::Soak => soak(&args, &seed, &mut workers).await?,
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ seeding

/// One connection's identity and where its next entry goes.
#[derive(Clone)]
struct Worker {
    token: String,
    person: String,
    /// Index into `Seed::days` of the next entry.
    next_day: usize,
    /// A tiny xorshift, so each connection's mix differs but runs repeat.
    rng: u64,
}

struct Seed {
    base: String,
    admin: String,
    project: String,
    workers: Vec<Worker>,
    /// Days entries are spread over (every day from 2023 to last month), so
    /// no day nears its 24 hours however long the bench runs.
    days: Vec<(String, String)>,
    /// The draft scenario's client and project, with its approved work.
    billing: Option<(String, String)>,
}

fn token(args: &Args, person: &str, role: &str) -> Result<String> {
    let out = std::process::Command::new(&args.bin)
        .arg("--data")
        .arg(&args.data)
        .args([
            "token", "--tenant", "load", "--person", person, "--role", role,
        ])
        .output()
        .context("run agencyops token")?;
    if !out.status.success() {
        bail!("agencyops token: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Result<(u16, Value)> {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

async fn created(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: Value,
) -> Result<String> {
    let (status, res) = call(
        http,
        reqwest::Method::POST,
        format!("{base}{path}"),
        token,
        Some(body),
    )
    .await?;
    if status != 201 {
        bail!("POST {path}: {status} {res}");
    }
    Ok(res["id"].as_str().unwrap_or_default().to_owned())
}

async fn person(http: &reqwest::Client, base: &str, admin: &str, n: usize) -> Result<String> {
    created(
        http,
        base,
        admin,
        "/v1/people",
        json!({"name": format!("Load {n}"), "email": format!("load{n}@load.test"), "role": "member",
            "time_zone": "Europe/Lisbon", "job_role": "designer",
            "cost_rate": {"amount": "40.00", "currency": "EUR"}}),
    )
    .await
}

impl Seed {
    async fn make(args: &Args) -> Result<Seed> {
        let http = reqwest::Client::new();
        let base = args.base.trim_end_matches('/').to_owned();
        let admin = token(args, "load-admin", "admin")?;
        let mut people = Vec::new();
        for n in 0..args.conns {
            people.push(person(&http, &base, &admin, n).await?);
        }
        let client = created(
            &http,
            &base,
            &admin,
            "/v1/clients",
            json!({"name": "Load Co", "currency": "EUR"}),
        )
        .await?;
        let project = created(
            &http,
            &base,
            &admin,
            "/v1/projects",
            json!({"client_id": client, "name": "Load", "billing_model": "time_and_materials",
                "team": people, "rate_card": {"default_rate": "100.00"}}),
        )
        .await?;
        let mut workers = Vec::new();
        for (n, p) in people.iter().enumerate() {
            workers.push(Worker {
                token: token(args, p, "member")?,
                person: p.clone(),
                next_day: n * 37,
                rng: 0x9e37_79b9_7f4a_7c15 ^ (n as u64 + 1),
            });
        }
        let mut days = Vec::new();
        let mut d = Date::constant(2023, 1, 2);
        while d < Date::constant(2026, 11, 1) {
            let week = d.iso_week_date();
            days.push((
                d.to_string(),
                format!("{}-W{:02}", week.year(), week.week()),
            ));
            d = d.tomorrow()?;
        }
        let mut seed = Seed {
            base,
            admin,
            project,
            workers,
            days,
            billing: None,
        };
        if args.scenarios.contains(&Scenario::Drafts) {
            seed.billing = Some(seed.approved_work(args, &http).await?);
        }
        Ok(seed)
    }

    /// A client whose project holds `--draft-entries` approved 15-minute
    /// entries, all in the week of 2026-11-02 (at most 18 h a day for 500).
    async fn approved_work(&self, args: &Args, http: &reqwest::Client) -> Result<(String, String)> {
        let base = &self.base;
        let biller = person(http, base, &self.admin, 9999).await?;
        let client = created(
            http,
            base,
            &self.admin,
            "/v1/clients",
            json!({"name": "Billed Co", "currency": "EUR"}),
        )
        .await?;
        let project = created(
            http,
            base,
            &self.admin,
            "/v1/projects",
            json!({"client_id": client, "name": "Billed", "billing_model": "time_and_materials",
                "team": [biller], "rate_card": {"default_rate": "90.00"}}),
        )
        .await?;
        let member = token(args, &biller, "member")?;
        for n in 0..args.draft_entries {
            let date = format!("2026-11-{:02}", 2 + n % 7);
            created(
                http,
                base,
                &member,
                "/v1/time-entries",
                json!({"project_id": project, "date": date, "minutes": 15, "note": "billed work"}),
            )
            .await?;
        }
        let week = format!("{base}/v1/timesheets/{biller}/2026-W45");
        let (status, res) = call(
            http,
            reqwest::Method::POST,
            format!("{week}/submit"),
            &member,
            Some(json!({})),
        )
        .await?;
        if !(200..300).contains(&status) {
            bail!("submit: {status} {res}");
        }
        let (status, res) = call(
            http,
            reqwest::Method::POST,
            format!("{week}/approve"),
            &self.admin,
            Some(json!({})),
        )
        .await?;
        if !(200..300).contains(&status) {
            bail!("approve: {status} {res}");
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (_, sheet) =
                call(http, reqwest::Method::GET, week.clone(), &self.admin, None).await?;
            if sheet["status"] == "approved" && sheet["job"].is_null() {
                break;
            }
            if Instant::now() > deadline {
                bail!("the week was never approved: {}", sheet["status"]);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok((client, project))
    }
}

// ------------------------------------------------------------------ driving

#[derive(Clone, Copy)]
enum Op {
    Create,
    Timesheet,
    List,
    Wip,
}

impl Worker {
    fn roll(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

/// 70 % reads, spread over the three, and 30 % creates.
fn mix_op(w: &mut Worker) -> Op {
    match w.roll() % 10 {
        0..=2 => Op::Create,
        3 | 4 => Op::Timesheet,
        5 | 6 => Op::List,
        _ => Op::Wip,
    }
}

#[derive(Default)]
struct Stats {
    micros: Vec<u32>,
    errors: usize,
    first_errors: Vec<String>,
    elapsed: Duration,
    rss: Option<Rss>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.micros.extend(other.micros);
        self.errors += other.errors;
        for e in other.first_errors {
            if self.first_errors.len() < 5 {
                self.first_errors.push(e);
            }
        }
    }

    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.first_errors.len() < 5 {
            self.first_errors.push(what);
        }
    }

    fn ms(&self, percentile: usize) -> f64 {
        if self.micros.is_empty() {
            return 0.0;
        }
        let i = (self.micros.len() * percentile / 100).min(self.micros.len() - 1);
        f64::from(self.micros[i]) / 1000.0
    }
}

async fn one(http: &reqwest::Client, seed: &Seed, w: &mut Worker, op: Op) -> Result<u16> {
    let base = &seed.base;
    let req = match op {
        Op::Create => {
            let (date, _) = &seed.days[w.next_day % seed.days.len()];
            w.next_day += 1;
            http.post(format!("{base}/v1/time-entries"))
                .bearer_auth(&w.token)
                .json(&json!({"project_id": seed.project, "date": date, "minutes": 1, "note": "load"}))
        }
        Op::Timesheet => {
            let (_, week) = &seed.days[w.next_day.saturating_sub(1) % seed.days.len()];
            http.get(format!("{base}/v1/timesheets/{}/{week}", w.person))
                .bearer_auth(&w.token)
        }
        Op::List => http
            .get(format!("{base}/v1/time-entries?limit=20"))
            .bearer_auth(&w.token),
        Op::Wip => http
            .get(format!("{base}/v1/reports/wip"))
            .bearer_auth(&seed.admin),
    };
    let res = req.send().await?;
    let status = res.status().as_u16();
    // The whole body, as a client would read it.
    res.bytes().await?;
    Ok(status)
}

/// Runs every worker for `secs`, each on its own connection, choosing its
/// requests with `pick`.
async fn drive(
    seed: &Seed,
    workers: &mut Vec<Worker>,
    secs: u64,
    pick: fn(&mut Worker) -> Op,
) -> Stats {
    let stop = Arc::new(AtomicBool::new(false));
    let stats = drive_until(seed, std::mem::take(workers), stop.clone(), pick);
    let timer = async {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
    };
    let (done, ()) = tokio::join!(stats, timer);
    *workers = done.1;
    done.0
}

async fn drive_until(
    seed: &Seed,
    workers: Vec<Worker>,
    stop: Arc<AtomicBool>,
    pick: fn(&mut Worker) -> Op,
) -> (Stats, Vec<Worker>) {
    let started = Instant::now();
    let runs = workers.into_iter().map(|mut w| {
        let stop = stop.clone();
        async move {
            let http = reqwest::Client::builder()
                .tcp_nodelay(true)
                .build()
                .unwrap_or_default();
            let mut stats = Stats::default();
            while !stop.load(Ordering::Relaxed) {
                let op = pick(&mut w);
                let t = Instant::now();
                match one(&http, seed, &mut w, op).await {
                    Ok(status) if (200..300).contains(&status) => {}
                    Ok(status) => stats.error(format!("HTTP {status}")),
                    Err(e) => stats.error(e.to_string()),
                }
                stats
                    .micros
                    .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            (stats, w)
        }
    });
    let mut total = Stats::default();
    let mut back = Vec::new();
    for (stats, w) in futures_join_all(runs).await {
        total.merge(stats);
        back.push(w);
    }
    total.elapsed = started.elapsed();
    total.micros.sort_unstable();
    (total, back)
}

/// All futures at once on this task (the bench has no `futures` crate).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in set.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

// ------------------------------------------------------------------ drafts

async fn drafts(args: &Args, seed: &Seed, workers: &mut Vec<Worker>) -> Result<()> {
    let (client, project) = seed
        .billing
        .clone()
        .context("no approved work was seeded")?;
    let stop = Arc::new(AtomicBool::new(false));
    // One connection drafts; the others create entries meanwhile.
    let creators: Vec<Worker> = workers.drain(1..).collect();
    let writes = drive_until(seed, creators, stop.clone(), |_| Op::Create);
    let drafting = async {
        let http = reqwest::Client::new();
        let mut stats = Stats::default();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(args.secs) {
            let t = Instant::now();
            match draft_once(&http, seed, &client, &project).await {
                Ok(()) => stats
                    .micros
                    .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX)),
                Err(e) => {
                    stats.error(format!("{e:#}"));
                    // A failing draft must not become a busy loop beside the creates.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        stats.elapsed = started.elapsed();
        stats.micros.sort_unstable();
        stats
    };
    let ((creates, back), drafted) = tokio::join!(writes, drafting);
    workers.extend(back);
    row(
        args,
        "creates during drafts",
        &creates,
        Goal::errors_and_rss(),
    )?;
    row(
        args,
        &format!("draft of {} entries (POST → draft)", args.draft_entries),
        &drafted,
        Goal::errors_and_rss(),
    )
}

/// Drafts the client's approved work, waits until it is a draft, and deletes
/// it so the work is unbilled again for the next round.
async fn draft_once(
    http: &reqwest::Client,
    seed: &Seed,
    client: &str,
    project: &str,
) -> Result<()> {
    let base = &seed.base;
    // 202: a draft this large is built by the builder queue's consumer.
    let (status, inv) = call(
        http,
        reqwest::Method::POST,
        format!("{base}/v1/invoices"),
        &seed.admin,
        Some(json!({"client_id": client, "kind": "time_and_materials", "project_ids": [project]})),
    )
    .await?;
    if status != 201 && status != 202 {
        bail!("POST /v1/invoices: {status} {inv}");
    }
    let id = inv["id"].as_str().unwrap_or_default().to_owned();
    let url = format!("{base}/v1/invoices/{id}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, inv) =
            call(http, reqwest::Method::GET, url.clone(), &seed.admin, None).await?;
        if status != 200 {
            bail!("GET invoice: {status} {inv}");
        }
        if inv["status"] == "draft" {
            break;
        }
        if Instant::now() > deadline {
            bail!("invoice {id} never became a draft: {}", inv["status"]);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    loop {
        let res = http.delete(&url).bearer_auth(&seed.admin).send().await?;
        match res.status().as_u16() {
            204 => return Ok(()),
            409 if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            s => bail!(
                "DELETE invoice: {s} {}",
                res.text().await.unwrap_or_default()
            ),
        }
    }
}

// ------------------------------------------------------------------ soak

async fn soak(args: &Args, seed: &Seed, workers: &mut Vec<Worker>) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let load = drive_until(seed, std::mem::take(workers), stop.clone(), mix_op);
    let sampling = async {
        let started = Instant::now();
        let mut samples = Vec::new();
        while started.elapsed() < Duration::from_secs(args.secs) {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if let Ok(r) = Rss::of(args.pid) {
                samples.push((started.elapsed(), r.now_kb));
            }
        }
        stop.store(true, Ordering::Relaxed);
        samples
    };
    let ((mut stats, back), samples) = tokio::join!(load, sampling);
    *workers = back;
    let warm = Duration::from_secs(args.warmup);
    let after: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t >= warm)
        .map(|(_, kb)| *kb)
        .collect();
    let growth = match (after.first(), after.iter().max()) {
        (Some(&first), Some(&max)) if first > 0 => Some((max as f64 / first as f64 - 1.0) * 100.0),
        _ => None,
    };
    stats.rss = Rss::of(args.pid).ok();
    eprintln!(
        "soak RSS samples (s, MB): {}",
        samples
            .iter()
            .map(|(t, kb)| format!("{}:{:.1}", t.as_secs(), *kb as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let name = match growth {
        Some(g) => format!(
            "soak: mix for {} s (RSS {:.1} → {:.1} MB after {} s warm-up, {g:+.1} %)",
            args.secs,
            after.first().copied().unwrap_or_default() as f64 / 1024.0,
            after.last().copied().unwrap_or_default() as f64 / 1024.0,
            args.warmup
        ),
        None => format!(
            "soak: mix for {} s (too short for an RSS baseline)",
            args.secs
        ),
    };
    let mut goal = Goal::errors_and_rss();
    goal.growth = Some(growth.unwrap_or(f64::INFINITY));
    row(args, &name, &stats, goal)
}

// ------------------------------------------------------------------ report

struct Rss {
    peak_kb: u64,
    now_kb: u64,
}

impl Rss {
    fn of(pid: u32) -> Result<Rss> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("read /proc/{pid}/status"))?;
        let field = |name: &str| -> Option<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        };
        Ok(Rss {
            peak_kb: field("VmHWM:").context("no VmHWM")?,
            now_kb: field("VmRSS:").context("no VmRSS")?,
        })
    }
}

/// The goals; `None` is no goal for that figure.
struct Goal {
    min_rps: Option<f64>,
    max_p99_ms: Option<f64>,
    max_rss_mb: f64,
    growth: Option<f64>,
}

impl Goal {
    fn creates() -> Goal {
        Goal {
            min_rps: Some(2000.0),
            max_p99_ms: Some(10.0),
            ..Goal::errors_and_rss()
        }
    }
    fn errors_and_rss() -> Goal {
        Goal {
            min_rps: None,
            max_p99_ms: None,
            max_rss_mb: 64.0,
            growth: None,
        }
    }
}

fn row(args: &Args, name: &str, stats: &Stats, goal: Goal) -> Result<()> {
    let rss = match &stats.rss {
        Some(r) => Rss {
            peak_kb: r.peak_kb,
            now_kb: r.now_kb,
        },
        None => Rss::of(args.pid)?,
    };
    let rps = stats.micros.len() as f64 / stats.elapsed.as_secs_f64().max(1e-9);
    let peak_mb = rss.peak_kb as f64 / 1024.0;
    let mut wanted = Vec::new();
    let mut met = true;
    if let Some(min) = goal.min_rps {
        wanted.push(format!("≥ {min:.0}/s"));
        met &= rps >= min;
    }
    if let Some(max) = goal.max_p99_ms {
        wanted.push(format!("p99 ≤ {max:.0} ms"));
        met &= stats.ms(99) <= max;
    }
    wanted.push(format!("RSS ≤ {:.0} MB", goal.max_rss_mb));
    met &= peak_mb <= goal.max_rss_mb;
    if let Some(g) = goal.growth {
        wanted.push("growth ≤ 10 %".into());
        met &= g <= 10.0;
    }
    wanted.push("0 errors".into());
    met &= stats.errors == 0;
    for e in &stats.first_errors {
        eprintln!("{name}: error: {e}");
    }
    println!(
        "| {name} | {rps:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {} | {peak_mb:.1} MB | {} | {} |",
        stats.ms(50),
        stats.ms(99),
        stats
            .micros
            .last()
            .map(|m| f64::from(*m) / 1000.0)
            .unwrap_or_default(),
        stats.errors,
        wanted.join(", "),
        if met { "yes" } else { "NO" },
    );
    Ok(())
}
