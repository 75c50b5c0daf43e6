//! The Table port: the few DynamoDB operations the application needs, typed so
//! that both adapters (embedded SQLite, DynamoDB) can promise the same behaviour.
//!
//! Items are JSON maps. The reserved attributes below carry the keys; everything
//! else is the record's own data.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An item as stored: a JSON object whose reserved attributes carry its keys.
pub type Item = serde_json::Map<String, Value>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
pub const GSI2PK: &str = "gsi2pk";
pub const GSI2SK: &str = "gsi2sk";
/// The third index: sparse, for the few items a daily job looks for by date
/// (open invoices by their next dunning action).
pub const GSI3PK: &str = "gsi3pk";
pub const GSI3SK: &str = "gsi3sk";
/// Epoch seconds after which the item may be deleted (DynamoDB TTL attribute).
pub const TTL: &str = "ttl";

/// Transactions larger than this are refused before anything is sent (DynamoDB's limit).
pub const MAX_TRANSACT_ITEMS: usize = 100;
/// Just under DynamoDB's 400 KB item limit. Items are measured as their JSON, which is never
/// smaller than DynamoDB's own measure, so both adapters refuse the same items.
pub const MAX_ITEM_BYTES: usize = 400_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key of a stored item, if it has one.
    pub fn of(item: &Item) -> Option<Key> {
        Some(Key::new(
            item.get(PK)?.as_str()?.to_owned(),
            item.get(SK)?.as_str()?.to_owned(),
        ))
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.pk, self.sk)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Index {
    Table,
    Gsi1,
    Gsi2,
    Gsi3,
}

impl Index {
    /// The attribute names of this index's partition and sort key.
    pub fn key_attrs(self) -> (&'static str, &'static str) {
        match self {
            Index::Table => (PK, SK),
            Index::Gsi1 => (GSI1PK, GSI1SK),
            Index::Gsi2 => (GSI2PK, GSI2SK),
            Index::Gsi3 => (GSI3PK, GSI3SK),
        }
    }

    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Table => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
            Index::Gsi3 => Some("gsi3"),
        }
    }
}

/// The sort-key part of a key condition. Serializable so a list cursor can be
/// bound to the exact range it pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum SkCondition {
    Any,
    BeginsWith(String),
    /// Inclusive on both ends, as DynamoDB's BETWEEN.
    Between(String, String),
    AtLeast(String),
    AtMost(String),
}

#[derive(Clone, Debug)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SkCondition,
    pub forward: bool,
    pub limit: usize,
    pub start_after: Option<PageKey>,
}

impl Query {
    pub fn new(index: Index, pk: impl Into<String>) -> Self {
        Query {
            index,
            pk: pk.into(),
            sk: SkCondition::Any,
            forward: true,
            limit: 100,
            start_after: None,
        }
    }
    pub fn sk(mut self, sk: SkCondition) -> Self {
        self.sk = sk;
        self
    }
    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }
    pub fn start_after(mut self, at: Option<PageKey>) -> Self {
        self.start_after = at;
        self
    }
}

/// Where the next page starts: the last item's table key and, for a GSI, its index key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageKey {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isk: Option<String>,
}

impl PageKey {
    /// Whether this is a position inside `query`: on its partition and within its
    /// sort-key range. Both adapters refuse any other start key, so a cursor
    /// that does not fit its query is a typed error, never a backend failure.
    pub fn belongs_to(&self, query: &Query) -> bool {
        let (partition, position) = match query.index {
            Index::Table => (Some(&self.pk), Some(&self.sk)),
            _ => (self.ipk.as_ref(), self.isk.as_ref()),
        };
        let (Some(partition), Some(position)) = (partition, position) else {
            return false;
        };
        let position = position.as_str();
        *partition == query.pk
            && match &query.sk {
                SkCondition::Any => true,
                SkCondition::BeginsWith(p) => position.starts_with(p.as_str()),
                SkCondition::Between(lo, hi) => lo.as_str() <= position && position <= hi.as_str(),
                SkCondition::AtLeast(lo) => lo.as_str() <= position,
                SkCondition::AtMost(hi) => position <= hi.as_str(),
            }
    }

    /// The position just after `item` in a query on `index`.
    pub fn after(item: &Item, index: Index) -> Option<PageKey> {
        let key = Key::of(item)?;
        let (ipk, isk) = match index {
            Index::Table => (None, None),
            other => {
                let (p, s) = other.key_attrs();
                (
                    Some(item.get(p)?.as_str()?.to_owned()),
                    Some(item.get(s)?.as_str()?.to_owned()),
                )
            }
        };
        Some(PageKey {
            pk: key.pk,
            sk: key.sk,
            ipk,
            isk,
        })
    }
}

#[derive(Clone, Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow.
    pub next: Option<PageKey>,
}

/// A condition on the item a write targets, checked atomically with the write.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    NotExists,
    Exists,
    /// The item exists and `attr` equals the value.
    AttrEquals(String, Value),
    /// The item exists and its `version` attribute equals this.
    VersionIs(u64),
}

pub const VERSION: &str = "version";

impl Condition {
    /// Whether the condition holds for the item as currently stored (None: absent).
    pub fn holds(&self, current: Option<&Item>) -> bool {
        match (self, current) {
            (Condition::NotExists, current) => current.is_none(),
            (Condition::Exists, current) => current.is_some(),
            (Condition::AttrEquals(attr, want), Some(cur)) => cur.get(attr) == Some(want),
            (Condition::VersionIs(v), Some(cur)) => {
                cur.get(VERSION).and_then(Value::as_u64) == Some(*v)
            }
            (_, None) => false,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Write {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    /// Only a condition: the transaction fails unless it holds.
    Check { key: Key, condition: Condition },
    /// Adds `by` to a numeric attribute, creating the item and attribute at 0 if missing.
    Add { key: Key, attr: String, by: i64 },
}

impl Write {
    pub fn put(item: Item) -> Self {
        Write::Put {
            item,
            condition: None,
        }
    }
    pub fn put_new(item: Item) -> Self {
        Write::Put {
            item,
            condition: Some(Condition::NotExists),
        }
    }
    pub fn put_if(item: Item, condition: Condition) -> Self {
        Write::Put {
            item,
            condition: Some(condition),
        }
    }
    /// Fails the transaction unless the item at `key` exists (a parent that must outlive the write).
    pub fn check_exists(key: Key) -> Self {
        Write::Check {
            key,
            condition: Condition::Exists,
        }
    }

    /// The key this write targets.
    pub fn key(&self) -> Result<Key, StoreError> {
        match self {
            Write::Put { item, .. } => Key::of(item)
                .ok_or_else(|| StoreError::Malformed("put item has no string pk/sk".into())),
            Write::Delete { key, .. } | Write::Check { key, .. } | Write::Add { key, .. } => {
                Ok(key.clone())
            }
        }
    }
}

/// `Clone` so one failed group commit can answer every caller that shared it.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    /// The write at position `index` of the transaction failed its condition; nothing was written.
    #[error("condition failed on write {index} ({key})")]
    ConditionFailed { index: usize, key: Key },
    #[error("a transaction of {0} writes exceeds the limit of {MAX_TRANSACT_ITEMS}")]
    TooManyWrites(usize),
    #[error("a transaction names {0} twice")]
    DuplicateKey(Key),
    #[error("item {0} is larger than {MAX_ITEM_BYTES} bytes")]
    ItemTooLarge(Key),
    /// Another transaction touched the same items; retrying may succeed.
    #[error("transaction conflict")]
    Conflict,
    #[error("stored data is malformed: {0}")]
    Malformed(String),
    /// A query's start key is not a position in that query (see [`PageKey::belongs_to`]).
    #[error("the start key is not a position in this query")]
    StartOutsideQuery,
    #[error("store backend failed: {0}")]
    Backend(String),
    /// The unit of work this call belongs to was given up (its request runs
    /// again as another caller, or is refused); nothing more of it may run.
    #[error("the request this call belongs to was abandoned")]
    Abandoned,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Checks both adapters apply before touching storage, so they refuse the same things.
pub fn precheck(writes: &[Write]) -> StoreResult<Vec<Key>> {
    if writes.len() > MAX_TRANSACT_ITEMS {
        return Err(StoreError::TooManyWrites(writes.len()));
    }
    let mut keys = Vec::with_capacity(writes.len());
    for w in writes {
        let key = w.key()?;
        if keys.contains(&key) {
            return Err(StoreError::DuplicateKey(key));
        }
        if let Write::Put { item, .. } = w {
            let size = serde_json::to_vec(item)
                .map(|b| b.len())
                .unwrap_or(usize::MAX);
            if size > MAX_ITEM_BYTES {
                return Err(StoreError::ItemTooLarge(key));
            }
            for attr in [GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK] {
                if let Some(v) = item.get(attr) {
                    if !v.is_string() {
                        return Err(StoreError::Malformed(format!("{attr} must be a string")));
                    }
                }
            }
        }
        keys.push(key);
    }
    Ok(keys)
}

#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>>;
    /// Items that exist among `keys`, in no particular order. Any number of
    /// keys: the adapter splits them into the backend's batches itself.
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>>;
    async fn query(&self, query: &Query) -> StoreResult<Page>;
    /// All writes happen, or none. At most [`MAX_TRANSACT_ITEMS`], each key once.
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()>;
    /// Atomically adds `by` to a counter attribute and returns the new value.
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64>;
}
