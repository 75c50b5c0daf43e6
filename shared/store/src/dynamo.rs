//! DynamoDB adapter of the Table port (aws-sdk-dynamodb + serde_dynamo).
//!
//! A single write goes out as PutItem/DeleteItem/UpdateItem (half the capacity
//! of a transaction); several go out as one TransactWriteItems. Cancellation
//! reasons are mapped back to the index of the write whose condition failed.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
    Update,
};
use aws_sdk_dynamodb::Client;
use serde_json::Value;

use crate::table::*;

type Attrs = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
}

fn backend<E: std::fmt::Debug>(e: E) -> StoreError {
    StoreError::Backend(format!("{e:?}"))
}

fn to_attrs(item: &Item) -> StoreResult<Attrs> {
    serde_dynamo::to_item(Value::Object(item.clone()))
        .map_err(|e| StoreError::Malformed(e.to_string()))
}

fn from_attrs(attrs: Attrs) -> StoreResult<Item> {
    match serde_dynamo::from_item::<_, Value>(attrs) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(StoreError::Malformed("item is not a map".into())),
        Err(e) => Err(StoreError::Malformed(e.to_string())),
    }
}

fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// A condition as DynamoDB expression parts.
struct Expr {
    text: String,
    names: HashMap<String, String>,
    values: Attrs,
}

fn condition_expr(condition: &Condition) -> StoreResult<Expr> {
    let mut names = HashMap::from([("#pk".to_owned(), PK.to_owned())]);
    let mut values = Attrs::new();
    let text = match condition {
        Condition::NotExists => "attribute_not_exists(#pk)".to_owned(),
        Condition::Exists => "attribute_exists(#pk)".to_owned(),
        Condition::AttrEquals(attr, v) => {
            names.insert("#c".into(), attr.clone());
            values.insert(
                ":c".into(),
                serde_dynamo::to_attribute_value(v)
                    .map_err(|e| StoreError::Malformed(e.to_string()))?,
            );
            "attribute_exists(#pk) AND #c = :c".to_owned()
        }
        Condition::VersionIs(n) => {
            names.insert("#c".into(), VERSION.to_owned());
            values.insert(":c".into(), AttributeValue::N(n.to_string()));
            "attribute_exists(#pk) AND #c = :c".to_owned()
        }
    };
    Ok(Expr {
        text,
        names,
        values,
    })
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoTable {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn single(&self, write: Write, key: Key) -> StoreResult<()> {
        match write {
            Write::Put { item, condition } => {
                let e = condition.as_ref().map(condition_expr).transpose()?;
                let req = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(to_attrs(&item)?))
                    .set_condition_expression(e.as_ref().map(|e| e.text.clone()))
                    .set_expression_attribute_names(e.as_ref().map(|e| e.names.clone()))
                    .set_expression_attribute_values(e.and_then(|e| non_empty(e.values)));
                single_outcome(req.send().await, key)
            }
            Write::Delete { key: k, condition } => {
                let e = condition.as_ref().map(condition_expr).transpose()?;
                let req = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(&k)))
                    .set_condition_expression(e.as_ref().map(|e| e.text.clone()))
                    .set_expression_attribute_names(e.as_ref().map(|e| e.names.clone()))
                    .set_expression_attribute_values(e.and_then(|e| non_empty(e.values)));
                single_outcome(req.send().await, key)
            }
            Write::Add { key: k, attr, by } => self.increment(&k, &attr, by).await.map(|_| ()),
            // A lone check is a consistent read judged by the same rule as the embedded adapter.
            Write::Check { key: k, condition } => {
                if condition.holds(self.get(&k).await?.as_ref()) {
                    Ok(())
                } else {
                    Err(StoreError::ConditionFailed { index: 0, key })
                }
            }
        }
    }
}

/// A single conditional write's result: a failed condition names the write.
fn single_outcome<O, E, R>(res: Result<O, SdkError<E, R>>, key: Key) -> StoreResult<()>
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match res {
        Ok(_) => Ok(()),
        Err(SdkError::ServiceError(s))
            if s.err().code() == Some("ConditionalCheckFailedException") =>
        {
            Err(StoreError::ConditionFailed { index: 0, key })
        }
        Err(err) => Err(backend(err)),
    }
}

fn non_empty(values: Attrs) -> Option<Attrs> {
    if values.is_empty() {
        None
    } else {
        Some(values)
    }
}

fn transact_item(write: &Write) -> StoreResult<TransactWriteItem> {
    let item = match write {
        Write::Put { item, condition } => {
            let mut put = Put::builder().set_item(Some(to_attrs(item)?));
            if let Some(c) = condition {
                let e = condition_expr(c)?;
                put = put
                    .condition_expression(e.text)
                    .set_expression_attribute_names(Some(e.names))
                    .set_expression_attribute_values(non_empty(e.values));
            }
            TransactWriteItem::builder().put(put.table_name("").build().map_err(backend)?)
        }
        Write::Delete { key, condition } => {
            let mut del = Delete::builder().set_key(Some(key_attrs(key)));
            if let Some(c) = condition {
                let e = condition_expr(c)?;
                del = del
                    .condition_expression(e.text)
                    .set_expression_attribute_names(Some(e.names))
                    .set_expression_attribute_values(non_empty(e.values));
            }
            TransactWriteItem::builder().delete(del.table_name("").build().map_err(backend)?)
        }
        Write::Check { key, condition } => {
            let e = condition_expr(condition)?;
            TransactWriteItem::builder().condition_check(
                ConditionCheck::builder()
                    .set_key(Some(key_attrs(key)))
                    .condition_expression(e.text)
                    .set_expression_attribute_names(Some(e.names))
                    .set_expression_attribute_values(non_empty(e.values))
                    .table_name("")
                    .build()
                    .map_err(backend)?,
            )
        }
        Write::Add { key, attr, by } => TransactWriteItem::builder().update(
            Update::builder()
                .set_key(Some(key_attrs(key)))
                .update_expression("ADD #a :by")
                .expression_attribute_names("#a", attr)
                .expression_attribute_values(":by", AttributeValue::N(by.to_string()))
                .table_name("")
                .build()
                .map_err(backend)?,
        ),
    };
    Ok(item.build())
}

/// Sets the table name on a transact item (the builders need one at build time).
fn with_table(mut item: TransactWriteItem, table: &str) -> TransactWriteItem {
    if let Some(p) = item.put.as_mut() {
        p.table_name = table.to_owned();
    }
    if let Some(d) = item.delete.as_mut() {
        d.table_name = table.to_owned();
    }
    if let Some(c) = item.condition_check.as_mut() {
        c.table_name = table.to_owned();
    }
    if let Some(u) = item.update.as_mut() {
        u.table_name = table.to_owned();
    }
    item
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.map(from_attrs).transpose()
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        let mut out = Vec::with_capacity(keys.len());
        let mut unique: Vec<&Key> = Vec::new();
        for k in keys {
            if !unique.contains(&k) {
                unique.push(k);
            }
        }
        for chunk in unique.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.iter().map(|k| key_attrs(k)).collect()))
                    .consistent_read(true)
                    .build()
                    .map_err(backend)?,
            );
            // Unprocessed keys (throttling) are retried with backoff, a bounded number of times.
            let mut attempt = 0u32;
            while let Some(request) = pending.take() {
                if attempt > 0 {
                    if attempt > 6 {
                        return Err(StoreError::Backend(
                            "batch get still throttled after 6 retries".into(),
                        ));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                }
                attempt += 1;
                let res = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(backend)?;
                if let Some(mut responses) = res.responses {
                    for attrs in responses.remove(&self.table).unwrap_or_default() {
                        out.push(from_attrs(attrs)?);
                    }
                }
                pending = res
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
            }
        }
        Ok(out)
    }

    async fn query(&self, q: &Query) -> StoreResult<Page> {
        let (pattr, sattr) = q.index.key_attrs();
        let mut names = HashMap::from([("#p".to_owned(), pattr.to_owned())]);
        let mut values = HashMap::from([(":p".to_owned(), AttributeValue::S(q.pk.clone()))]);
        let mut text = "#p = :p".to_owned();
        let mut sk = |expr: &str, vals: &[&String]| {
            names.insert("#s".into(), sattr.to_owned());
            for (i, v) in vals.iter().enumerate() {
                values.insert(format!(":s{i}"), AttributeValue::S((*v).clone()));
            }
            text.push_str(" AND ");
            text.push_str(expr);
        };
        match &q.sk {
            SkCondition::Any => {}
            SkCondition::BeginsWith(p) => sk("begins_with(#s, :s0)", &[p]),
            SkCondition::Between(a, b) => sk("#s BETWEEN :s0 AND :s1", &[a, b]),
            SkCondition::AtLeast(a) => sk("#s >= :s0", &[a]),
            SkCondition::AtMost(b) => sk("#s <= :s0", &[b]),
        }
        let start = match &q.start_after {
            None => None,
            // DynamoDB would answer a ValidationException; refuse it as the embedded adapter does.
            Some(at) if !at.belongs_to(q) => return Err(StoreError::StartOutsideQuery),
            Some(at) => {
                let mut k = key_attrs(&Key::new(at.pk.clone(), at.sk.clone()));
                if q.index != Index::Table {
                    let (ipk, isk) = match (&at.ipk, &at.isk) {
                        (Some(p), Some(s)) => (p.clone(), s.clone()),
                        _ => {
                            return Err(StoreError::Malformed("cursor lacks its index key".into()))
                        }
                    };
                    k.insert(pattr.to_owned(), AttributeValue::S(ipk));
                    k.insert(sattr.to_owned(), AttributeValue::S(isk));
                }
                Some(k)
            }
        };
        let res = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.name().map(str::to_owned))
            .key_condition_expression(text)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(q.forward)
            // One more than asked: a page that exactly fills the limit then ends
            // the list, as on the embedded adapter, instead of leading to an empty page.
            .limit(i32::try_from(q.limit.max(1) + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .consistent_read(q.index == Index::Table)
            .send()
            .await
            .map_err(backend)?;
        let mut items = res
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_attrs)
            .collect::<StoreResult<Vec<_>>>()?;
        let more = items.len() > q.limit.max(1) || res.last_evaluated_key.is_some();
        items.truncate(q.limit.max(1));
        let next = if more {
            items.last().and_then(|i| PageKey::after(i, q.index))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        let keys = precheck(&writes)?;
        match writes.len() {
            0 => return Ok(()),
            1 => {
                let key = keys[0].clone();
                if let Some(w) = writes.into_iter().next() {
                    return self.single(w, key).await;
                }
                return Ok(());
            }
            _ => {}
        }
        let items = writes
            .iter()
            .map(|w| transact_item(w).map(|i| with_table(i, &self.table)))
            .collect::<StoreResult<Vec<_>>>()?;
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(s)) => {
                let err = s.into_err();
                if let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancel) = &err {
                    let reasons = cancel.cancellation_reasons();
                    if let Some(index) = reasons
                        .iter()
                        .position(|r| r.code() == Some("ConditionalCheckFailed"))
                    {
                        let key = keys.get(index).cloned().ok_or_else(|| {
                            StoreError::Backend(format!("cancellation names write {index} of {}", keys.len()))
                        })?;
                        return Err(StoreError::ConditionFailed { index, key });
                    }
                    if reasons
                        .iter()
                        .any(|r| r.code() == Some("TransactionConflict"))
                    {
                        return Err(StoreError::Conflict);
                    }
                }
                if err.code() == Some("TransactionConflictException") {
                    return Err(StoreError::Conflict);
                }
                Err(backend(err))
            }
            Err(other) => Err(backend(other)),
        }
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .update_expression("ADD #a :by")
            .expression_attribute_names("#a", attr)
            .expression_attribute_values(":by", AttributeValue::N(by.to_string()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(backend)?;
        match res.attributes.as_ref().and_then(|a| a.get(attr)) {
            Some(AttributeValue::N(n)) => n
                .parse()
                .map_err(|_| StoreError::Malformed(format!("{attr} is not an integer"))),
            _ => Err(StoreError::Malformed(format!(
                "{attr} missing after update"
            ))),
        }
    }
}

/// Creates the table with the layout `infra/template.yaml` declares (used by tests and
/// by local tooling against an emulator; in AWS the template owns the table).
pub async fn create_table(client: &Client, table: &str) -> StoreResult<()> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(backend)
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .map_err(backend)
    };
    let gsi = |name: &str, p: &str, s: &str| -> StoreResult<GlobalSecondaryIndex> {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(p, KeyType::Hash)?)
            .key_schema(key(s, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(backend)
    };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PK)?)
        .attribute_definitions(attr(SK)?)
        .attribute_definitions(attr(GSI1PK)?)
        .attribute_definitions(attr(GSI1SK)?)
        .attribute_definitions(attr(GSI2PK)?)
        .attribute_definitions(attr(GSI2SK)?)
        .attribute_definitions(attr(GSI3PK)?)
        .attribute_definitions(attr(GSI3SK)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .global_secondary_indexes(gsi("gsi1", GSI1PK, GSI1SK)?)
        .global_secondary_indexes(gsi("gsi2", GSI2PK, GSI2SK)?)
        .global_secondary_indexes(gsi("gsi3", GSI3PK, GSI3SK)?)
        .send()
        .await
        .map_err(backend)?;
    Ok(())
}
