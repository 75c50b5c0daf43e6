//! Reading invoices: one by id (one query of its partition: the invoice, its
//! claim batches, payments and credit notes), and lists by tenant or client.

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_domain::Role;
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::{access, ApiError, ApiResult, Caller, Services};
use agencyops_store::record::{all_items, from_item, is};
use agencyops_store::records::{ClaimBatch, CreditNote, Invoice, Payment};
use agencyops_store::{keys, Index, Query};
use serde::{Deserialize, Serialize};

use crate::view::{self, InvoiceParts, InvoiceSummary, InvoiceView};

/// The invoice and its parts, if the caller may see it.
pub async fn load_visible(
    s: &Services,
    caller: &Caller,
    id: &str,
) -> ApiResult<(Invoice, InvoiceParts)> {
    access::require_reads_invoices(caller)?;
    let q = Query::new(Index::Table, keys::invoice_partition(&caller.tenant, id)).limit(500);
    let mut inv = None;
    let mut parts = InvoiceParts::default();
    for item in all_items(&*s.table, &q).await? {
        if is::<Invoice>(&item) {
            inv = Some(from_item::<Invoice>(item)?);
        } else if is::<ClaimBatch>(&item) {
            parts.batches.push(from_item(item)?);
        } else if is::<Payment>(&item) {
            parts.payments.push(from_item(item)?);
        } else if is::<CreditNote>(&item) {
            parts.credit_notes.push(from_item(item)?);
        }
    }
    let inv = inv.ok_or(ApiError::NotFound("invoice"))?;
    if !access::sees_invoice(caller, &inv.client_id, inv.status.is_draft()) {
        return Err(ApiError::NotFound("invoice"));
    }
    parts
        .payments
        .sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    parts
        .credit_notes
        .sort_by(|a, b| (a.issue_date, &a.number).cmp(&(b.issue_date, &b.number)));
    Ok((inv, parts))
}

pub async fn get(s: &Services, caller: &Caller, id: &str) -> ApiResult<InvoiceView> {
    let (inv, parts) = load_visible(s, caller, id).await?;
    Ok(view::invoice_view(caller, &inv, &parts))
}

#[derive(Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InvoiceFilter {
    /// Only this client's invoices.
    #[param(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: Option<String>,
    pub status: Option<InvoiceStatus>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Newest first. A client user lists their own client's issued invoices.
pub async fn list(
    s: &Services,
    caller: &Caller,
    f: InvoiceFilter,
) -> ApiResult<ListPage<InvoiceSummary>> {
    access::require_reads_invoices(caller)?;
    if let Some(c) = &f.client_id {
        agencyops_domain::Id::parse(c).map_err(|why| ApiError::invalid("query.client_id", why))?;
    }
    let tenant = caller.tenant.as_str();
    let client = match caller.role {
        Role::Client => Some(caller.client.clone().ok_or(ApiError::NotFound("client"))?),
        _ => f.client_id.clone(),
    };
    if caller.role == Role::Client
        && f.client_id
            .as_ref()
            .is_some_and(|c| Some(c) != client.as_ref())
    {
        return Ok(ListPage {
            items: Vec::new(),
            next_cursor: None,
        });
    }
    let query = match &client {
        Some(c) => Query::new(Index::Gsi2, keys::client_invoices(tenant, c)),
        None => Query::new(Index::Gsi1, keys::invoices(tenant)),
    }
    .backward();
    let filters = (&f.client_id, &f.status);
    let page = resource::list::<Invoice>(
        s,
        caller,
        query,
        f.limit,
        f.cursor.as_deref(),
        &filters,
        |inv| {
            access::sees_invoice(caller, &inv.client_id, inv.status.is_draft())
                && f.status.is_none_or(|st| st == inv.status)
        },
    )
    .await?;
    Ok(ListPage {
        items: page.items.iter().map(view::summary).collect(),
        next_cursor: page.next_cursor,
    })
}
