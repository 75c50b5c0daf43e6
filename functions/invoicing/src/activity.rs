//! An invoice's activity (`GET /v1/invoices/{id}/activity`): what happened
//! to it after issue, in time order, from one query of its partition:
//! payments and credit notes from their own records, mail deliveries and
//! late fees from the activity items the mail sender and dunning write.
//!
//! Whoever may read the invoice may read its activity; a client user sees
//! what it says to them (dates, amounts, subjects), not who recorded what,
//! to which addresses, or the provider's ids.

use agencyops_platform::{access, ApiError, ApiResult, Caller, Services};
use agencyops_store::record::{all_items, from_item, is};
use agencyops_store::records::{ActivityKind, CreditNote, Invoice, InvoiceActivity, Payment};
use agencyops_store::{keys, Index, Query};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// One thing that happened to the invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityItem {
    pub kind: ActivityKind,
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// What the reader needs: recipients and subject of a mail, amount of a
    /// payment, fee or credit note (staff see more than clients).
    #[schema(value_type = Object)]
    pub details: Map<String, Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceActivityList {
    pub invoice_id: String,
    pub items: Vec<ActivityItem>,
}

/// Detail keys a client user sees on recorded activity.
const CLIENT_DETAILS: &[&str] = &["subject", "amount", "currency", "number", "stage"];

fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub async fn list(s: &Services, caller: &Caller, id: &str) -> ApiResult<InvoiceActivityList> {
    access::require_reads_invoices(caller)?;
    let tenant = caller.tenant.as_str();
    let items = all_items(
        &*s.table,
        &Query::new(Index::Table, keys::invoice_partition(tenant, id)),
    )
    .await?;
    let inv = items
        .iter()
        .find(|i| is::<Invoice>(i))
        .cloned()
        .map(from_item::<Invoice>)
        .transpose()?
        .filter(|inv| access::sees_invoice(caller, &inv.client_id, inv.status.is_draft()))
        .ok_or(ApiError::NotFound("invoice"))?;
    let staff = access::sees_invoice_internals(caller);
    let mut out = Vec::new();
    for item in items {
        if is::<Payment>(&item) {
            let p: Payment = from_item(item)?;
            let mut d = map(json!({
                "amount": p.amount.to_string(),
                "currency": p.currency,
                "method": p.method,
                "reversed": p.reversed_at.is_some(),
            }));
            if staff {
                d.insert("payment_id".into(), json!(p.id));
                d.insert("reference".into(), json!(p.reference));
                d.insert("recorded_by".into(), json!(p.recorded_by));
            }
            out.push(ActivityItem {
                kind: ActivityKind::Payment,
                date: p.date,
                at: p.created_at,
                details: d,
            });
        } else if is::<CreditNote>(&item) {
            let c: CreditNote = from_item(item)?;
            let mut d = map(json!({
                "number": c.number,
                "amount": c.total.to_string(),
                "currency": c.currency,
                "reason": c.reason,
            }));
            if staff {
                d.insert("credit_note_id".into(), json!(c.id));
                d.insert("created_by".into(), json!(c.created_by));
            }
            out.push(ActivityItem {
                kind: ActivityKind::CreditNote,
                date: c.issue_date,
                at: c.created_at,
                details: d,
            });
        } else if is::<InvoiceActivity>(&item) {
            let a: InvoiceActivity = from_item(item)?;
            let details = if staff {
                a.details
            } else {
                a.details
                    .into_iter()
                    .filter(|(k, _)| CLIENT_DETAILS.contains(&k.as_str()))
                    .collect()
            };
            out.push(ActivityItem {
                kind: a.activity,
                date: a.on,
                at: a.at,
                details,
            });
        }
    }
    out.sort_by_key(|a| (a.date, a.at));
    Ok(InvoiceActivityList {
        invoice_id: inv.id,
        items: out,
    })
}
