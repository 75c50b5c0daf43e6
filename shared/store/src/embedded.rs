//! Embedded adapter of the Table port: one SQLite database file.
//!
//! WAL with `synchronous=FULL` makes each committed transaction survive a crash;
//! every `transact` is one SQLite transaction, so it is all-or-nothing. Key
//! columns are copied out of the JSON body so queries use real indexes, and text
//! comparison is bytewise on UTF-8, which is DynamoDB's sort order for strings.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use crate::table::*;

#[derive(Clone)]
pub struct EmbeddedTable {
    conn: Arc<Mutex<Connection>>,
}

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

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl EmbeddedTable {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path).map_err(backend)?;
        Self::init(conn)
    }

    /// Shares an already open connection (the local host keeps queues in the same file).
    pub fn from_shared(conn: Arc<Mutex<Connection>>) -> StoreResult<Self> {
        {
            let c = conn.lock().map_err(backend)?;
            c.execute_batch(SCHEMA).map_err(backend)?;
            migrate(&c)?;
        }
        Ok(EmbeddedTable { conn })
    }

    fn init(conn: Connection) -> StoreResult<Self> {
        configure(&conn)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        migrate(&conn)?;
        Ok(EmbeddedTable {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub fn connection(&self) -> Arc<Mutex<Connection>> {
        self.conn.clone()
    }

    /// Deletes items whose TTL has passed, as DynamoDB's TTL sweeper eventually does.
    pub async fn purge_expired(&self, now_epoch: i64) -> StoreResult<usize> {
        self.with_conn(move |c| {
            c.execute(
                "DELETE FROM items WHERE ttl IS NOT NULL AND ttl < ?1",
                [now_epoch],
            )
            .map_err(backend)
        })
        .await
    }

    async fn with_conn<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Backend("embedded store lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(backend)?
    }
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

fn parse_body(body: String) -> StoreResult<Item> {
    match serde_json::from_str::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(StoreError::Malformed("stored body is not an object".into())),
        Err(e) => Err(StoreError::Malformed(e.to_string())),
    }
}

fn get_in(conn: &Connection, key: &Key) -> StoreResult<Option<Item>> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM items WHERE pk = ?1 AND sk = ?2",
            params![key.pk, key.sk],
            |r| r.get(0),
        )
        .optional()
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
    conn.execute(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, gsi3pk, gsi3sk, ttl, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
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
        ],
    )
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
        self.with_conn(move |c| get_in(c, &key)).await
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        // Each item once, however often its key is asked for (as DynamoDB does).
        let mut unique: Vec<Key> = Vec::with_capacity(keys.len());
        for k in keys {
            if !unique.contains(k) {
                unique.push(k.clone());
            }
        }
        let keys = unique;
        self.with_conn(move |c| {
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
        self.with_conn(move |c| run_query(c, &q)).await
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        let keys = precheck(&writes)?;
        if writes.is_empty() {
            return Ok(());
        }
        self.with_conn(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            // Every condition is checked against the state before the transaction,
            // as DynamoDB does, before anything is written.
            for (index, (w, key)) in writes.iter().zip(&keys).enumerate() {
                let condition = match w {
                    Write::Put { condition, .. } | Write::Delete { condition, .. } => {
                        condition.as_ref()
                    }
                    Write::Check { condition, .. } => Some(condition),
                    Write::Add { .. } => None,
                };
                if let Some(condition) = condition {
                    let current = get_in(&tx, key)?;
                    if !condition.holds(current.as_ref()) {
                        return Err(StoreError::ConditionFailed {
                            index,
                            key: key.clone(),
                        });
                    }
                }
            }
            for w in &writes {
                match w {
                    Write::Put { item, .. } => put_in(&tx, item)?,
                    Write::Delete { key, .. } => {
                        tx.execute(
                            "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                            params![key.pk, key.sk],
                        )
                        .map_err(backend)?;
                    }
                    Write::Check { .. } => {}
                    Write::Add { key, attr, by } => {
                        add_in(&tx, key, attr, *by)?;
                    }
                }
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        let key = key.clone();
        let attr = attr.to_owned();
        self.with_conn(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let next = add_in(&tx, &key, &attr, by)?;
            tx.commit().map_err(backend)?;
            Ok(next)
        })
        .await
    }
}

/// Upper bound for a prefix range: every string starting with `prefix` sorts below it.
fn prefix_end(prefix: &str) -> String {
    let mut s = prefix.to_owned();
    s.push(char::MAX);
    s.push(char::MAX);
    s
}

fn run_query(conn: &Connection, q: &Query) -> StoreResult<Page> {
    let (pcol, scol) = q.index.key_attrs();
    let mut sql = format!("SELECT body FROM items WHERE {pcol} = ?");
    let mut args: Vec<SqlValue> = vec![SqlValue::Text(q.pk.clone())];
    match &q.sk {
        SkCondition::Any => {}
        SkCondition::BeginsWith(p) => {
            sql.push_str(&format!(" AND {scol} >= ? AND {scol} < ?"));
            args.push(SqlValue::Text(p.clone()));
            args.push(SqlValue::Text(prefix_end(p)));
        }
        SkCondition::Between(a, b) => {
            sql.push_str(&format!(" AND {scol} >= ? AND {scol} <= ?"));
            args.push(SqlValue::Text(a.clone()));
            args.push(SqlValue::Text(b.clone()));
        }
        SkCondition::AtLeast(a) => {
            sql.push_str(&format!(" AND {scol} >= ?"));
            args.push(SqlValue::Text(a.clone()));
        }
        SkCondition::AtMost(b) => {
            sql.push_str(&format!(" AND {scol} <= ?"));
            args.push(SqlValue::Text(b.clone()));
        }
    }
    let cmp = if q.forward { ">" } else { "<" };
    let dir = if q.forward { "ASC" } else { "DESC" };
    if let Some(start) = &q.start_after {
        if !start.belongs_to(q) {
            return Err(StoreError::StartOutsideQuery);
        }
        match q.index {
            Index::Table => {
                sql.push_str(&format!(" AND sk {cmp} ?"));
                args.push(SqlValue::Text(start.sk.clone()));
            }
            _ => {
                let isk = start
                    .isk
                    .clone()
                    .ok_or_else(|| StoreError::Malformed("cursor lacks its index key".into()))?;
                sql.push_str(&format!(" AND ({scol}, pk, sk) {cmp} (?, ?, ?)"));
                args.push(SqlValue::Text(isk));
                args.push(SqlValue::Text(start.pk.clone()));
                args.push(SqlValue::Text(start.sk.clone()));
            }
        }
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
