//! Embedded adapter of the Table port: one SQLite database file.
//!
//! WAL with `synchronous=FULL` makes each committed transaction survive a crash;
//! every `transact` is all-or-nothing. Key columns are copied out of the JSON
//! body so queries use real indexes, and text comparison is bytewise on UTF-8,
//! which is DynamoDB's sort order for strings.
//!
//! Group commit: one writer thread owns the write connection. Concurrent
//! `transact`/`increment` calls queue up while it commits; it then runs every
//! queued call in one SQLite transaction, each inside its own SAVEPOINT (a
//! failed condition rolls back that call alone), commits once — one fsync for
//! the group — and only then answers each caller. So every acknowledged write
//! is durable, and a burst of N writes costs one fsync instead of N.
//! Reads go to a few reader threads with connections of their own (WAL lets
//! them read while the writer writes); each read is its own read transaction
//! started after the call, so it sees every write acknowledged before it.
//!
//! Every connection counts the SQL statements it runs (SQLite's statement
//! trace, per thread), and each call reports its count to the caller's
//! counted unit (`counting::add_statements`): a write its own savepoint's
//! statements plus the group's BEGIN and COMMIT, as it would run alone.
use std::cell::Cell;
use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::trace::{TraceEvent, TraceEventCodes};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::counting::add_statements;
use crate::table::*;

/// Reader threads. Two cores here: three readers keep both busy while the
/// writer waits on fsync, and each reader costs a page cache.
const READERS: usize = 3;
/// Page cache of each connection, in KiB: the writer's and the local queue's
/// (which write) a little larger than each reader's. SQLite fills a cache as
/// the file grows past it, so these bound the store's memory: 2 + 2 + 3 × 1
/// MiB, and a long run's RSS levels off once they are full. (Checkpoints
/// stay inside the commit that crosses 1,000 WAL pages: run on a thread of
/// their own they never caught up with a steady stream of commits, the WAL
/// never restarted, and the soak's RSS grew 39 → 94 MB in ten minutes.)
const WRITER_CACHE_KIB: i64 = 2048;
const READER_CACHE_KIB: i64 = 1024;
/// Most calls one group commit takes (each at most [`MAX_TRANSACT_ITEMS`] writes).
const MAX_GROUP: usize = 64;

/// Cheap to clone: every clone talks to the same writer and readers, which stop
/// when the last clone is dropped.
#[derive(Clone)]
pub struct EmbeddedTable {
    inner: Arc<Shared>,
}

struct Shared {
    writer: mpsc::Sender<Pending>,
    readers: mpsc::Sender<ReadJob>,
    /// A connection outside the writer, for the local queue's own tables.
    aux: Arc<Mutex<Connection>>,
}

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// The third index, created after [`migrate`] has added its columns to a
/// file made before it existed.
const GSI3_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS items_gsi3 ON items (gsi3pk, gsi3sk, pk, sk) WHERE gsi3pk IS NOT NULL;";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    gsi1pk TEXT, gsi1sk TEXT,
    gsi2pk TEXT, gsi2sk TEXT,
    gsi3pk TEXT, gsi3sk TEXT,
    ttl INTEGER,
    body TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_ttl ON items (ttl) WHERE ttl IS NOT NULL;
";

thread_local! {
    /// SQL statements this thread's connection has started.
    static STATEMENTS: Cell<u64> = const { Cell::new(0) };
}

fn on_trace(event: TraceEvent<'_>) {
    if let TraceEvent::Stmt(..) = event {
        STATEMENTS.with(|n| n.set(n.get() + 1));
    }
}

/// Counts every statement `conn` runs on the thread running it.
fn count_statements(conn: &Connection) {
    conn.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(on_trace));
}

/// Runs `f` and answers how many statements it ran on this thread.
fn statements_of<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = STATEMENTS.with(Cell::get);
    let out = f();
    (out, STATEMENTS.with(Cell::get).saturating_sub(before))
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn stopped() -> StoreError {
    StoreError::Backend("embedded store threads stopped".into())
}

impl EmbeddedTable {
    /// Opens (creating if needed) the database file at `path` and starts its
    /// writer and reader threads.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let write = Connection::open(path).map_err(backend)?;
        configure(&write)?;
        page_cache(&write, WRITER_CACHE_KIB)?;
        write.execute_batch(SCHEMA).map_err(backend)?;
        migrate(&write)?;
        count_statements(&write);

        let mut reads = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let c = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(backend)?;
            c.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(backend)?;
            page_cache(&c, READER_CACHE_KIB)?;
            count_statements(&c);
            reads.push(c);
        }
        let aux = Connection::open(path).map_err(backend)?;
        configure(&aux)?;
        page_cache(&aux, WRITER_CACHE_KIB)?;

        let (writer, write_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || write_loop(write, write_rx))
            .map_err(backend)?;
        let (readers, read_rx) = mpsc::channel::<ReadJob>();
        let read_rx = Arc::new(Mutex::new(read_rx));
        for (n, c) in reads.into_iter().enumerate() {
            let rx = read_rx.clone();
            std::thread::Builder::new()
                .name(format!("store-reader-{n}"))
                .spawn(move || read_loop(c, rx))
                .map_err(backend)?;
        }
        Ok(EmbeddedTable {
            inner: Arc::new(Shared {
                writer,
                readers,
                aux: Arc::new(Mutex::new(aux)),
            }),
        })
    }

    /// A connection of its own to the same file, for the local host's queue
    /// tables. Its writes take SQLite's write lock alongside the store's writer
    /// (the busy timeout waits for a group commit to finish).
    pub fn connection(&self) -> Arc<Mutex<Connection>> {
        self.inner.aux.clone()
    }

    /// Deletes items whose TTL has passed, as DynamoDB's TTL sweeper eventually does.
    pub async fn purge_expired(&self, now_epoch: i64) -> StoreResult<usize> {
        let (reply, rx) = oneshot::channel();
        self.submit(Pending::Purge {
            before: now_epoch,
            reply,
        })?;
        answered(rx).await
    }

    fn submit(&self, p: Pending) -> StoreResult<()> {
        self.inner.writer.send(p).map_err(|_| stopped())
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.inner
            .readers
            .send(Box::new(move |c| {
                let _ = tx.send(statements_of(|| f(c)));
            }))
            .map_err(|_| stopped())?;
        answered(rx).await
    }
}

/// A thread's answer, its statements added to the caller's counted unit.
async fn answered<T>(rx: oneshot::Receiver<(StoreResult<T>, u64)>) -> StoreResult<T> {
    let (result, statements) = rx.await.map_err(|_| stopped())?;
    add_statements(statements);
    result
}

/// Takes read jobs off the shared channel until every table handle is gone.
fn read_loop(conn: Connection, jobs: Arc<Mutex<mpsc::Receiver<ReadJob>>>) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            // A panicking job drops its reply (the caller gets an error) and
            // must not take a reader with it.
            Ok(job) => {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&conn)));
            }
            Err(_) => return,
        }
    }
}

/// A write call waiting for the next group commit.
enum Pending {
    Transact {
        writes: Vec<Write>,
        keys: Vec<Key>,
        reply: Reply<()>,
    },
    Increment {
        key: Key,
        attr: String,
        by: i64,
        reply: Reply<i64>,
    },
    Purge {
        before: i64,
        reply: Reply<usize>,
    },
}

/// A call's result and the SQL statements it ran.
type Reply<T> = oneshot::Sender<(StoreResult<T>, u64)>;

/// The statements of a group every call in it shares: BEGIN and COMMIT.
const GROUP_STATEMENTS: u64 = 2;

/// What an applied call will answer once its group is committed.
enum Done {
    Written,
    Counter(i64),
    Purged(usize),
}

impl Pending {
    fn apply(&self, c: &Connection) -> StoreResult<Done> {
        match self {
            Pending::Transact { writes, keys, .. } => {
                transact_in(c, writes, keys).map(|()| Done::Written)
            }
            Pending::Increment { key, attr, by, .. } => {
                add_in(c, key, attr, *by).map(Done::Counter)
            }
            Pending::Purge { before, .. } => c
                .prepare_cached("DELETE FROM items WHERE ttl IS NOT NULL AND ttl < ?1")
                .and_then(|mut s| s.execute([before]))
                .map(Done::Purged)
                .map_err(backend),
        }
    }

    /// Answers the caller, with the `statements` its call ran; one that
    /// stopped waiting is no one's concern.
    fn answer(self, result: StoreResult<Done>, statements: u64) {
        let mismatch = || StoreError::Backend("embedded writer answered the wrong kind".into());
        let statements = statements + GROUP_STATEMENTS;
        match self {
            Pending::Transact { reply, .. } => {
                let _ = reply.send((result.map(|_| ()), statements));
            }
            Pending::Increment { reply, .. } => {
                let _ = reply.send((
                    result.and_then(|d| match d {
                        Done::Counter(n) => Ok(n),
                        _ => Err(mismatch()),
                    }),
                    statements,
                ));
            }
            Pending::Purge { reply, .. } => {
                let _ = reply.send((
                    result.and_then(|d| match d {
                        Done::Purged(n) => Ok(n),
                        _ => Err(mismatch()),
                    }),
                    statements,
                ));
            }
        }
    }
}

/// The writer thread: waits for a call, takes whatever else queued up
/// meanwhile, and commits them as one group, until every table handle is gone.
fn write_loop(conn: Connection, calls: mpsc::Receiver<Pending>) {
    let mut queue = VecDeque::new();
    loop {
        if queue.is_empty() {
            match calls.recv() {
                Ok(p) => queue.push_back(p),
                Err(_) => return,
            }
        }
        while queue.len() < MAX_GROUP {
            match calls.try_recv() {
                Ok(p) => queue.push_back(p),
                Err(_) => break,
            }
        }
        commit_group(&conn, &mut queue);
    }
}

/// Runs the queued calls in one transaction and answers them after its commit.
/// Calls left in `queue` (after SQLite itself abandoned the transaction) go
/// into the next group.
fn commit_group(conn: &Connection, queue: &mut VecDeque<Pending>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let e = backend(e);
        for p in queue.drain(..) {
            p.answer(Err(e.clone()), 0);
        }
        return;
    }
    let mut applied: Vec<(Pending, Done, u64)> = Vec::with_capacity(queue.len());
    while let Some(p) = queue.pop_front() {
        match statements_of(|| in_savepoint(conn, &p)) {
            (Ok(done), n) => applied.push((p, done, n)),
            (Err(e), n) if conn.is_autocommit() => {
                // SQLite rolled the whole transaction back (I/O error, full
                // disk): the calls applied before it are undone as well.
                p.answer(Err(e.clone()), n);
                for (p, _, n) in applied {
                    p.answer(Err(e.clone()), n);
                }
                return;
            }
            (Err(e), n) => p.answer(Err(e), n),
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            for (p, done, n) in applied {
                p.answer(Ok(done), n);
            }
        }
        Err(e) => {
            let e = backend(e);
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            for (p, _, n) in applied {
                p.answer(Err(e.clone()), n);
            }
        }
    }
}

/// One call inside its own savepoint: on failure only its writes are undone.
fn in_savepoint(conn: &Connection, p: &Pending) -> StoreResult<Done> {
    conn.execute_batch("SAVEPOINT call").map_err(backend)?;
    let result = p.apply(conn).and_then(|done| {
        conn.execute_batch("RELEASE call")
            .map(|()| done)
            .map_err(backend)
    });
    if result.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK TO call; RELEASE call");
    }
    result
}

/// Every condition is checked against the state before the call, as DynamoDB
/// does, before anything is written.
fn transact_in(c: &Connection, writes: &[Write], keys: &[Key]) -> StoreResult<()> {
    for (index, (w, key)) in writes.iter().zip(keys).enumerate() {
        let condition = match w {
            Write::Put { condition, .. } | Write::Delete { condition, .. } => condition.as_ref(),
            Write::Check { condition, .. } => Some(condition),
            Write::Add { .. } => None,
        };
        if let Some(condition) = condition {
            let current = get_in(c, key)?;
            if !condition.holds(current.as_ref()) {
                return Err(StoreError::ConditionFailed {
                    index,
                    key: key.clone(),
                });
            }
        }
    }
    for w in writes {
        match w {
            Write::Put { item, .. } => put_in(c, item)?,
            Write::Delete { key, .. } => {
                c.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
                    .and_then(|mut s| s.execute(params![key.pk, key.sk]))
                    .map_err(backend)?;
            }
            Write::Check { .. } => {}
            Write::Add { key, attr, by } => {
                add_in(c, key, attr, *by)?;
            }
        }
    }
    Ok(())
}

/// Brings a database file made by an older build up to the current columns:
/// the GSI3 columns are added if missing (an existing item has no GSI3 key
/// until it is next written, which is what a sparse index means anyway).
fn migrate(conn: &Connection) -> StoreResult<()> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info('items')")
        .map_err(backend)?;
    let columns = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    for col in [GSI3PK, GSI3SK] {
        if !columns.iter().any(|c| c == col) {
            conn.execute_batch(&format!("ALTER TABLE items ADD COLUMN {col} TEXT;"))
                .map_err(backend)?;
        }
    }
    conn.execute_batch(GSI3_INDEX).map_err(backend)
}

/// Pragmas for durability and for several processes opening the same file.
pub fn configure(conn: &Connection) -> StoreResult<()> {
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(backend)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(backend)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(backend)?;
    Ok(())
}

/// Caps `conn`'s page cache at `kib` KiB (a negative `cache_size` is KiB).
fn page_cache(conn: &Connection, kib: i64) -> StoreResult<()> {
    conn.pragma_update(None, "cache_size", -kib)
        .map_err(backend)
}

fn parse_body(body: String) -> StoreResult<Item> {
    match serde_json::from_str::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(StoreError::Malformed("stored body is not an object".into())),
        Err(e) => Err(StoreError::Malformed(e.to_string())),
    }
}

fn get_in(conn: &Connection, key: &Key) -> StoreResult<Option<Item>> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut s| {
            s.query_row(params![key.pk, key.sk], |r| r.get(0))
                .optional()
        })
        .map_err(backend)?;
    body.map(parse_body).transpose()
}

fn str_attr(item: &Item, attr: &str) -> Option<String> {
    item.get(attr).and_then(|v| v.as_str()).map(str::to_owned)
}

fn put_in(conn: &Connection, item: &Item) -> StoreResult<()> {
    let key = Key::of(item).ok_or_else(|| StoreError::Malformed("item has no pk/sk".into()))?;
    let ttl = item.get(TTL).and_then(Value::as_i64);
    let body = serde_json::to_string(item).map_err(|e| StoreError::Malformed(e.to_string()))?;
    let mut stmt = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, gsi3pk, gsi3sk, ttl, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(backend)?;
    stmt.execute(params![
        key.pk,
        key.sk,
        str_attr(item, GSI1PK),
        str_attr(item, GSI1SK),
        str_attr(item, GSI2PK),
        str_attr(item, GSI2SK),
        str_attr(item, GSI3PK),
        str_attr(item, GSI3SK),
        ttl,
        body
    ])
    .map_err(backend)?;
    Ok(())
}

fn add_in(conn: &Connection, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
    let mut item = get_in(conn, key)?.unwrap_or_else(|| {
        let mut m = Item::new();
        m.insert(PK.into(), Value::String(key.pk.clone()));
        m.insert(SK.into(), Value::String(key.sk.clone()));
        m
    });
    let current = match item.get(attr) {
        None => 0,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| StoreError::Malformed(format!("{attr} is not an integer")))?,
    };
    let next = current
        .checked_add(by)
        .ok_or_else(|| StoreError::Malformed(format!("{attr} overflows")))?;
    item.insert(attr.to_owned(), Value::from(next));
    put_in(conn, &item)?;
    Ok(next)
}

#[async_trait]
impl Table for EmbeddedTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let key = key.clone();
        self.read(move |c| get_in(c, &key)).await
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        // Each item once, however often its key is asked for (as DynamoDB does).
        let mut seen = HashSet::with_capacity(keys.len());
        let unique: Vec<Key> = keys
            .iter()
            .filter(|k| seen.insert((k.pk.as_str(), k.sk.as_str())))
            .cloned()
            .collect();
        let keys = unique;
        self.read(move |c| {
            let mut out = Vec::with_capacity(keys.len());
            for key in &keys {
                if let Some(item) = get_in(c, key)? {
                    out.push(item);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        let q = query.clone();
        self.read(move |c| run_query(c, &q)).await
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        let keys = precheck(&writes)?;
        if writes.is_empty() {
            return Ok(());
        }
        let (reply, rx) = oneshot::channel();
        self.submit(Pending::Transact {
            writes,
            keys,
            reply,
        })?;
        answered(rx).await
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        let (reply, rx) = oneshot::channel();
        self.submit(Pending::Increment {
            key: key.clone(),
            attr: attr.to_owned(),
            by,
            reply,
        })?;
        answered(rx).await
    }
}

/// Upper bound for a prefix range: every string starting with `prefix` sorts below it.
fn prefix_end(prefix: &str) -> String {
    let mut s = prefix.to_owned();
    s.push(char::MAX);
    s.push(char::MAX);
    s
}

/// One end of a sort-key range: a value, and whether it is in the range.
struct Bound {
    value: String,
    inclusive: bool,
}

impl Bound {
    fn at(value: &str) -> Bound {
        Bound {
            value: value.to_owned(),
            inclusive: true,
        }
    }
    fn after(value: &str) -> Bound {
        Bound {
            value: value.to_owned(),
            inclusive: false,
        }
    }
}

/// The narrower of two bounds on the same end: the larger lower bound (`lower`)
/// or the smaller upper bound; at the same value, the exclusive one.
fn narrower(current: Option<Bound>, other: Bound, lower: bool) -> Bound {
    match current {
        None => other,
        Some(c) if c.value == other.value => Bound {
            inclusive: c.inclusive && other.inclusive,
            value: c.value,
        },
        Some(c) if (other.value > c.value) == lower => other,
        Some(c) => c,
    }
}

/// Pages are read by key: the cursor narrows the range itself, so each page
/// starts where the last ended. (Given as a second bound beside the sort-key
/// condition's, SQLite seeks on the condition's and scans every earlier page
/// again: a 100-page query read ~5 million index entries instead of 100,000.)
fn run_query(conn: &Connection, q: &Query) -> StoreResult<Page> {
    let (pcol, scol) = q.index.key_attrs();
    let mut sql = format!("SELECT body FROM items WHERE {pcol} = ?");
    let mut args: Vec<SqlValue> = vec![SqlValue::Text(q.pk.clone())];
    let (mut lo, mut hi) = match &q.sk {
        SkCondition::Any => (None, None),
        SkCondition::BeginsWith(p) => (Some(Bound::at(p)), Some(Bound::after(&prefix_end(p)))),
        SkCondition::Between(a, b) => (Some(Bound::at(a)), Some(Bound::at(b))),
        SkCondition::AtLeast(a) => (Some(Bound::at(a)), None),
        SkCondition::AtMost(b) => (None, Some(Bound::at(b))),
    };
    let cmp = if q.forward { ">" } else { "<" };
    let dir = if q.forward { "ASC" } else { "DESC" };
    let mut tie_break = None;
    if let Some(start) = &q.start_after {
        if !start.belongs_to(q) {
            return Err(StoreError::StartOutsideQuery);
        }
        let from = match q.index {
            // The sort key is unique in a partition: strictly after it.
            Index::Table => Bound::after(&start.sk),
            _ => {
                let isk = start
                    .isk
                    .clone()
                    .ok_or_else(|| StoreError::Malformed("cursor lacks its index key".into()))?;
                // Index keys repeat: from it, and past the item by its table key.
                tie_break = Some([isk.clone(), start.pk.clone(), start.sk.clone()]);
                Bound::at(&isk)
            }
        };
        if q.forward {
            lo = Some(narrower(lo, from, true));
        } else {
            hi = Some(narrower(hi, from, false));
        }
    }
    if let Some(b) = lo {
        let op = if b.inclusive { ">=" } else { ">" };
        sql.push_str(&format!(" AND {scol} {op} ?"));
        args.push(SqlValue::Text(b.value));
    }
    if let Some(b) = hi {
        let op = if b.inclusive { "<=" } else { "<" };
        sql.push_str(&format!(" AND {scol} {op} ?"));
        args.push(SqlValue::Text(b.value));
    }
    if let Some(key) = tie_break {
        sql.push_str(&format!(" AND ({scol}, pk, sk) {cmp} (?, ?, ?)"));
        args.extend(key.into_iter().map(SqlValue::Text));
    }
    match q.index {
        Index::Table => sql.push_str(&format!(" ORDER BY sk {dir}")),
        _ => sql.push_str(&format!(" ORDER BY {scol} {dir}, pk {dir}, sk {dir}")),
    }
    let limit = q.limit.max(1);
    sql.push_str(" LIMIT ?");
    args.push(SqlValue::Integer((limit + 1) as i64));

    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let bodies = stmt
        .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(0))
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let more = bodies.len() > limit;
    let items = bodies
        .into_iter()
        .take(limit)
        .map(parse_body)
        .collect::<StoreResult<Vec<_>>>()?;
    let next = if more {
        items.last().and_then(|i| PageKey::after(i, q.index))
    } else {
        None
    };
    Ok(Page { items, next })
}
