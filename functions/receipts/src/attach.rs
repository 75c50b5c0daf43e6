//! What happens to one uploaded object: it is either the file announced on
//! its expense, checked and attached or refused, or it is not (an unknown or
//! superseded key) and goes to quarantine untouched by the expense.
//!
//! Redelivery changes nothing: a receipt is identified by its object key and
//! is decided once. An event for a decided receipt only finishes tidying its
//! inbox (see [`crate::files`]): the checked copy of an accepted file is kept
//! before the expense is written, and a refused file is moved after it, so a
//! crash anywhere is finished by the next delivery.

use agencyops_domain::Id;
use agencyops_platform::blob::Blob;
use agencyops_platform::resource;
use agencyops_platform::{Services, Tx, TxError};
use agencyops_store::audit::{Actor, AuditAction};
use agencyops_store::record::{self, load, load_many, Record};
use agencyops_store::records::{Expense, Receipt, ReceiptHash, ReceiptStatus, ReceiptSuggestions};
use agencyops_store::{keys, Index, Query, Write};
use bytes::Bytes;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::access::takes_receipts;
use crate::file_type::{check_file, ReceiptType, MAX_RECEIPT_BYTES};
use crate::files;
use crate::pdf;
use crate::processor::ProcessError;

/// Who the audit trail names for the processor's changes.
pub const PROCESSOR_ACTOR: &str = "receipts-processor";
/// Reloads when someone edits the expense while its receipt is processed.
const ATTEMPTS: usize = 5;
/// Enough other expenses with the same file to name one.
const DUPLICATE_SCAN: usize = 25;

/// What processing an object did, for logs and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Outside `receipts/`: not this processor's business.
    NotAReceipt,
    /// No expense announced this key: quarantined, nothing else changed.
    Unannounced,
    Accepted,
    Rejected(String),
    /// The receipt was already decided for this very file.
    AlreadyDone,
}

/// What the file itself says, read once per delivery.
enum Verdict {
    Missing,
    Fine {
        kind: ReceiptType,
        size: u64,
        sha256: String,
        suggestions: Option<ReceiptSuggestions>,
        /// Exactly the bytes checked: what is kept and served.
        bytes: Bytes,
    },
    Refused {
        reason: String,
        size: u64,
        sha256: Option<String>,
    },
}

pub(crate) async fn process_object(
    s: &Services,
    blob: &dyn Blob,
    key: &str,
    uploaded_at: Timestamp,
) -> Result<Outcome, ProcessError> {
    let Some((tenant, expense_id, _upload)) = keys::parse_receipt_object(key) else {
        if key.starts_with(keys::RECEIPTS_PREFIX) {
            files::quarantine(blob, key).await?;
            return Ok(Outcome::Unannounced);
        }
        return Ok(Outcome::NotAReceipt);
    };
    if !Id::is_valid(tenant) || !Id::is_valid(expense_id) {
        files::quarantine(blob, key).await?;
        return Ok(Outcome::Unannounced);
    }
    let mut verdict = None;
    for _ in 0..ATTEMPTS {
        let expense = load::<Expense>(&*s.table, &keys::expense(tenant, expense_id)).await?;
        let Some((expense, receipt)) = expense.and_then(|x| {
            let r = x.receipt.clone().filter(|r| r.key == key)?;
            Some((x, r))
        }) else {
            files::quarantine(blob, key).await?;
            return Ok(Outcome::Unannounced);
        };
        match receipt.status {
            ReceiptStatus::Pending => {}
            // Decided: whatever the inbox holds now is either what was
            // decided (a crash before it was tidied) or swapped in later.
            ReceiptStatus::Accepted => {
                files::clear_inbox(blob, key, receipt.sha256.as_deref()).await?;
                return Ok(Outcome::AlreadyDone);
            }
            ReceiptStatus::Rejected => {
                files::quarantine(blob, key).await?;
                return Ok(Outcome::AlreadyDone);
            }
        }
        let v = match verdict.take() {
            Some(v) => v,
            None => examine(blob, key, &receipt).await?,
        };
        let (next, hash, outcome) = decide(s, tenant, &expense, receipt, &v, uploaded_at).await?;
        if let (
            Outcome::Accepted,
            Verdict::Fine {
                kind,
                sha256,
                bytes,
                ..
            },
        ) = (&outcome, &v)
        {
            files::keep(blob, key, sha256, bytes.clone(), kind.mime()).await?;
        }
        let mut tx = Tx::new(tenant);
        tx.replace(&next, expense.version, ExpenseMoved)?
            .push(audit(s, tenant, &expense, &next, &outcome)?, ExpenseMoved);
        if let Some(hash) = &hash {
            tx.put(hash, ExpenseMoved)?;
        }
        match tx.run(&*s.table).await {
            Ok(()) => {
                match &outcome {
                    Outcome::Accepted => {
                        let accepted = next.receipt.as_ref().and_then(Receipt::accepted_hash);
                        files::clear_inbox(blob, key, accepted).await?;
                    }
                    Outcome::Rejected(_) => files::quarantine(blob, key).await?,
                    _ => {}
                }
                return Ok(outcome);
            }
            // Someone edited the expense meanwhile: decide again on the fresh one.
            Err(TxError::Failed(ExpenseMoved)) => verdict = Some(v),
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(ProcessError::Contended(expense_id.to_owned()))
}

/// Why the write of a decision failed: the expense is no longer the version
/// decided on (nothing else in it has a condition that can fail).
struct ExpenseMoved;

/// The expense with its pending receipt decided, the hash index item that
/// goes with an accepted file, and what happened.
async fn decide(
    s: &Services,
    tenant: &str,
    expense: &Expense,
    mut receipt: Receipt,
    verdict: &Verdict,
    uploaded_at: Timestamp,
) -> Result<(Expense, Option<ReceiptHash>, Outcome), ProcessError> {
    let now = s.clock.now();
    receipt.uploaded_at = Some(uploaded_at);
    receipt.processed_at = Some(now);
    let accepted = match verdict {
        Verdict::Fine { .. } => takes_receipts(expense.status).map_err(|why| {
            format!("the expense no longer takes a receipt ({why}); the file was not attached")
        }),
        Verdict::Refused { reason, .. } => Err(reason.clone()),
        Verdict::Missing => Err("the uploaded file could not be found; upload it again".into()),
    };
    let mut hash = None;
    let outcome = match (verdict, accepted) {
        (
            Verdict::Fine {
                kind,
                size,
                sha256,
                suggestions,
                ..
            },
            Ok(()),
        ) => {
            receipt.status = ReceiptStatus::Accepted;
            receipt.content_type = Some(kind.mime().to_owned());
            receipt.size = Some(*size);
            receipt.sha256 = Some(sha256.clone());
            receipt.duplicate_of = duplicate_of(s, tenant, sha256, &expense.id).await?;
            receipt.suggestions = suggestions.clone();
            receipt.reason = None;
            receipt.quarantine_key = None;
            hash = Some(ReceiptHash {
                id: expense.id.clone(),
                sha256: sha256.clone(),
                key: receipt.key.clone(),
                version: 1,
                created_at: now,
                updated_at: now,
            });
            Outcome::Accepted
        }
        (v, result) => {
            let reason = result.err().unwrap_or_default();
            let (size, sha256) = match v {
                Verdict::Fine { size, sha256, .. } => (Some(*size), Some(sha256.clone())),
                Verdict::Refused { size, sha256, .. } => (Some(*size), sha256.clone()),
                Verdict::Missing => (None, None),
            };
            receipt.status = ReceiptStatus::Rejected;
            receipt.content_type = None;
            receipt.size = size;
            receipt.sha256 = sha256;
            receipt.duplicate_of = None;
            receipt.suggestions = None;
            receipt.reason = Some(reason.clone());
            receipt.quarantine_key = Some(keys::quarantine_object(&receipt.key));
            Outcome::Rejected(reason)
        }
    };
    let mut next = expense.clone();
    next.receipt = Some(receipt);
    record::bump(&mut next, now);
    Ok((next, hash, outcome))
}

/// Reads the object and checks it against what was announced: size first
/// (without downloading an oversized file), then the content.
async fn examine(blob: &dyn Blob, key: &str, receipt: &Receipt) -> Result<Verdict, ProcessError> {
    let Some(meta) = blob.head(key).await? else {
        return Ok(Verdict::Missing);
    };
    let refuse = |reason: String, size: u64, sha256: Option<String>| {
        Ok(Verdict::Refused {
            reason,
            size,
            sha256,
        })
    };
    if meta.size > MAX_RECEIPT_BYTES {
        return refuse(
            format!(
                "the file is larger than {} MB",
                MAX_RECEIPT_BYTES / (1024 * 1024)
            ),
            meta.size,
            None,
        );
    }
    let Some(bytes) = blob.get(key).await? else {
        return Ok(Verdict::Missing);
    };
    let size = bytes.len() as u64;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if size != receipt.declared_size {
        return refuse(
            format!(
                "the file is {size} bytes, but {} were announced",
                receipt.declared_size
            ),
            size,
            Some(sha256),
        );
    }
    match check_file(receipt.declared_type, &bytes) {
        Ok(kind) => {
            let suggestions = (kind == ReceiptType::Pdf)
                .then(|| pdf::suggestions(&bytes))
                .filter(|s| !s.is_empty());
            Ok(Verdict::Fine {
                kind,
                size,
                sha256,
                suggestions,
                bytes,
            })
        }
        Err(reason) => refuse(reason, size, Some(sha256)),
    }
}

/// Another expense of the tenant that has this very file attached. Index
/// items are confirmed against the expense, so a stale one (the expense was
/// deleted or got another receipt) never names the wrong expense.
async fn duplicate_of(
    s: &Services,
    tenant: &str,
    sha256: &str,
    expense_id: &str,
) -> Result<Option<String>, ProcessError> {
    let q = Query::new(Index::Table, keys::receipt_hashes(tenant, sha256)).limit(DUPLICATE_SCAN);
    let (hashes, _) = record::page::<ReceiptHash>(&*s.table, &q).await?;
    let others: Vec<String> = hashes
        .into_iter()
        .map(|h| h.id)
        .filter(|id| id != expense_id)
        .collect();
    if others.is_empty() {
        return Ok(None);
    }
    let keys: Vec<_> = others.iter().map(|id| keys::expense(tenant, id)).collect();
    let expenses = load_many::<Expense>(&*s.table, &keys).await?;
    Ok(others.into_iter().find(|id| {
        expenses.iter().any(|x| {
            &x.id == id && x.receipt.as_ref().and_then(Receipt::accepted_hash) == Some(sha256)
        })
    }))
}

fn audit(
    s: &Services,
    tenant: &str,
    before: &Expense,
    after: &Expense,
    outcome: &Outcome,
) -> Result<Write, ProcessError> {
    let action = match outcome {
        Outcome::Accepted => AuditAction::AcceptReceipt,
        _ => AuditAction::RejectReceipt,
    };
    Ok(resource::audit_entry(
        s,
        tenant,
        Actor::system(PROCESSOR_ACTOR),
        action,
        (Expense::KIND, &after.id),
        serde_json::to_value(before).ok(),
        serde_json::to_value(after).ok(),
    )?)
}
