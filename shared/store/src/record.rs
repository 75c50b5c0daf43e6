//! Typed records over the Table port: a record knows its keys; this module turns
//! it into an item (adding key attributes and the version) and back.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::table::*;

/// A versioned record stored as one item.
pub trait Record: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The record's kind in the agency's words, e.g. "client"; used in audit and errors.
    const KIND: &'static str;
    fn id(&self) -> &str;
    fn version(&self) -> u64;
    fn set_version(&mut self, version: u64);
    /// Records the time of a change.
    fn touch(&mut self, at: jiff::Timestamp);
    fn key(&self, tenant: &str) -> Key;
    /// GSI1 and GSI2 (partition, sort) when the record is listed through them.
    fn index_keys(&self, _tenant: &str) -> [Option<(String, String)>; 2] {
        [None, None]
    }
    /// GSI3 (partition, sort) while the record is in the sparse third index;
    /// most records never are, so it defaults to none.
    fn index3_key(&self, _tenant: &str) -> Option<(String, String)> {
        None
    }
}

const RESERVED: &[&str] = &[
    PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, TTL, "kind",
];

pub fn to_item<R: Record>(tenant: &str, record: &R) -> StoreResult<Item> {
    let mut item = match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err(StoreError::Malformed(format!("{} is not a map", R::KIND))),
        Err(e) => return Err(StoreError::Malformed(e.to_string())),
    };
    let key = record.key(tenant);
    item.insert(PK.into(), Value::String(key.pk));
    item.insert(SK.into(), Value::String(key.sk));
    item.insert("kind".into(), Value::String(R::KIND.into()));
    let [g1, g2] = record.index_keys(tenant);
    let g3 = record.index3_key(tenant);
    for (attrs, keys) in [
        ((GSI1PK, GSI1SK), g1),
        ((GSI2PK, GSI2SK), g2),
        ((GSI3PK, GSI3SK), g3),
    ] {
        if let Some((p, s)) = keys {
            item.insert(attrs.0.into(), Value::String(p));
            item.insert(attrs.1.into(), Value::String(s));
        }
    }
    Ok(item)
}

pub fn from_item<R: Record>(mut item: Item) -> StoreResult<R> {
    if item.get("kind").and_then(Value::as_str) != Some(R::KIND) {
        return Err(StoreError::Malformed(format!("item is not a {}", R::KIND)));
    }
    for attr in RESERVED {
        item.remove(*attr);
    }
    serde_json::from_value(Value::Object(item)).map_err(|e| StoreError::Malformed(e.to_string()))
}

/// Whether a stored item is of record kind `R` (partitions mix kinds).
pub fn is<R: Record>(item: &Item) -> bool {
    item.get("kind").and_then(Value::as_str) == Some(R::KIND)
}

/// Makes `record` the next version of itself, changed `at`, and returns the
/// version it replaces: the one its write must find stored (0: never stored).
/// The one version bump, so no rewrite forgets the time or the condition.
pub fn bump<R: Record>(record: &mut R, at: jiff::Timestamp) -> u64 {
    let expected = record.version();
    record.set_version(expected + 1);
    record.touch(at);
    expected
}

/// Creates the record; fails if its key is taken.
pub fn create<R: Record>(tenant: &str, record: &R) -> StoreResult<Write> {
    Ok(Write::put_new(to_item(tenant, record)?))
}

/// Replaces the record only if the stored version is still `expected`.
pub fn replace<R: Record>(tenant: &str, record: &R, expected: u64) -> StoreResult<Write> {
    Ok(Write::put_if(
        to_item(tenant, record)?,
        Condition::VersionIs(expected),
    ))
}

/// Writes the record over the stored version `expected`, where 0 means it was
/// never stored (so it must not exist yet): one rule for records kept with a
/// default until their first write.
pub fn save<R: Record>(tenant: &str, record: &R, expected: u64) -> StoreResult<Write> {
    if expected == 0 {
        create(tenant, record)
    } else {
        replace(tenant, record, expected)
    }
}

/// Deletes the record only if the stored version is still the one it has here.
pub fn delete<R: Record>(tenant: &str, record: &R) -> Write {
    Write::Delete {
        key: record.key(tenant),
        condition: Some(Condition::VersionIs(record.version())),
    }
}

pub async fn load<R: Record>(table: &dyn Table, key: &Key) -> StoreResult<Option<R>> {
    match table.get(key).await? {
        Some(item) if is::<R>(&item) => from_item(item).map(Some),
        _ => Ok(None),
    }
}

pub async fn load_many<R: Record>(table: &dyn Table, keys: &[Key]) -> StoreResult<Vec<R>> {
    table
        .batch_get(keys)
        .await?
        .into_iter()
        .filter(is::<R>)
        .map(from_item)
        .collect()
}

/// One page of records of kind `R` (other kinds sharing the partition are skipped).
pub async fn page<R: Record>(
    table: &dyn Table,
    query: &Query,
) -> StoreResult<(Vec<R>, Option<PageKey>)> {
    let page = table.query(query).await?;
    let records = page
        .items
        .into_iter()
        .filter(is::<R>)
        .map(from_item)
        .collect::<StoreResult<Vec<R>>>()?;
    Ok((records, page.next))
}

/// Every record of kind `R` the query finds, page after page.
pub async fn all<R: Record>(table: &dyn Table, query: &Query) -> StoreResult<Vec<R>> {
    all_up_to::<R>(table, query, usize::MAX).await
}

/// Records of kind `R` page after page, reading no further page once `cap` of
/// them are in hand (a page already read is kept whole), so a caller bounds
/// what one request may read.
pub async fn all_up_to<R: Record>(
    table: &dyn Table,
    query: &Query,
    cap: usize,
) -> StoreResult<Vec<R>> {
    walk(table, query, cap, is::<R>)
        .await?
        .into_iter()
        .map(from_item)
        .collect()
}

/// Every item the query finds, page after page, whatever its kind (for
/// indexes that hold several kinds a reader tells apart itself).
pub async fn all_items(table: &dyn Table, query: &Query) -> StoreResult<Vec<Item>> {
    walk(table, query, usize::MAX, |_| true).await
}

/// The one page loop: follows `next` until the query ends or `cap` wanted
/// items are read.
async fn walk(
    table: &dyn Table,
    query: &Query,
    cap: usize,
    wanted: fn(&Item) -> bool,
) -> StoreResult<Vec<Item>> {
    let mut q = query.clone();
    let mut out = Vec::new();
    loop {
        let page = table.query(&q).await?;
        out.extend(page.items.into_iter().filter(wanted));
        match page.next {
            Some(n) if out.len() < cap => q.start_after = Some(n),
            _ => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::LockDate;

    #[test]
    fn a_bump_is_the_next_version_at_the_new_time_and_names_the_one_it_replaces() {
        let then = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let now = jiff::Timestamp::from_second(1_800_000_060).unwrap();
        let mut lock = LockDate::none(then);
        assert_eq!(bump(&mut lock, now), 0, "never stored: save creates it");
        assert_eq!((lock.version, lock.updated_at), (1, now));
        assert_eq!(bump(&mut lock, now), 1);
        assert_eq!(lock.version, 2);
        match save("acme", &lock, 1).unwrap() {
            Write::Put { condition, .. } => assert_eq!(condition, Some(Condition::VersionIs(1))),
            other => panic!("{other:?}"),
        }
    }
}
