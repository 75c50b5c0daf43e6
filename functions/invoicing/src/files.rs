//! Documents and exports as operations: the invoice's PDF or HTML (the kept
//! issued one when there is one), its UBL, and accounting exports.

use agencyops_platform::{access, ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::record::{self, all};
use agencyops_store::records::{CreditNote, Invoice, InvoicingSettings};
use agencyops_store::{keys, Index, Query};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::documents::store as docs;
use crate::documents::{exports, html, pdf, ubl, InvoiceDocument};
use crate::drafts::create::names;
use crate::reads::load_visible;

/// Most invoices one export reads.
const MAX_EXPORT: usize = 2000;

pub struct File {
    pub content_type: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

async fn settings(s: &Services, tenant: &str) -> ApiResult<InvoicingSettings> {
    Ok(
        record::load::<InvoicingSettings>(&*s.table, &keys::invoicing_settings(tenant))
            .await?
            .unwrap_or_else(|| InvoicingSettings::defaults(s.clock.now())),
    )
}

/// The invoice's document model as it stands now.
async fn current_document(
    s: &Services,
    caller: &Caller,
    id: &str,
) -> ApiResult<(Invoice, InvoiceDocument)> {
    let (inv, parts) = load_visible(s, caller, id).await?;
    let settings = settings(s, &caller.tenant).await?;
    let work: Vec<_> = parts.batches.iter().flat_map(|b| b.work.clone()).collect();
    let ctx = crate::context::load(s, &caller.tenant, &inv.client_id, &[]).await?;
    let names = names(
        s,
        &caller.tenant,
        &ctx,
        &work,
        agencyops_store::records::TimeGrouping::Person,
    )
    .await?;
    let doc = docs::invoice_document(&inv, &settings, &parts.batches, &names);
    Ok((inv, doc))
}

/// `GET /v1/invoices/{id}/document`: the issued document exactly as kept
/// (a void one is shown freshly, marked void); a draft rendered now (staff only).
pub async fn document(s: &Services, caller: &Caller, id: &str, want_html: bool) -> ApiResult<File> {
    let (inv, parts) = load_visible(s, caller, id).await?;
    let number = inv.number.clone().unwrap_or_else(|| "draft".into());
    let ext = if want_html { "html" } else { "pdf" };
    if let (Some(kept), Some(blob)) = (&inv.document, &s.blob) {
        if inv.status != agencyops_domain::invoice::InvoiceStatus::Void {
            let key = if want_html {
                docs::html_key(kept)
            } else {
                kept.blob_key.clone()
            };
            if let Some(bytes) = blob
                .get(&key)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
            {
                return Ok(File {
                    content_type: if want_html { docs::HTML } else { docs::PDF },
                    name: format!("{number}.{ext}"),
                    bytes: bytes.to_vec(),
                });
            }
        }
    }
    let _ = parts;
    let (_, doc) = current_document(s, caller, id).await?;
    Ok(if want_html {
        File {
            content_type: docs::HTML,
            name: format!("{number}.html"),
            bytes: html::render(&doc).into_bytes(),
        }
    } else {
        File {
            content_type: docs::PDF,
            name: format!("{number}.pdf"),
            bytes: pdf::render(&doc).map_err(docs::document_error)?,
        }
    })
}

/// `GET /v1/invoices/{id}/ubl`: the issued invoice as a UBL 2.1 Invoice.
pub async fn invoice_ubl(s: &Services, caller: &Caller, id: &str) -> ApiResult<File> {
    let (inv, doc) = current_document(s, caller, id).await?;
    if inv.status.is_draft() {
        return Err(
            Conflict::NotADraft("a draft is not an e-invoice yet: issue it first".into()).into(),
        );
    }
    let xml = ubl::render(&doc).map_err(docs::document_error)?;
    Ok(File {
        content_type: "application/xml",
        name: format!("{}.xml", doc.number),
        bytes: xml.into_bytes(),
    })
}

/// `GET /v1/invoices/{id}/credit-notes/{cid}/ubl`: a credit note as a UBL 2.1 CreditNote.
pub async fn credit_note_ubl(
    s: &Services,
    caller: &Caller,
    id: &str,
    credit_id: &str,
) -> ApiResult<File> {
    let (inv, parts) = load_visible(s, caller, id).await?;
    let note: &CreditNote = parts
        .credit_notes
        .iter()
        .find(|c| c.id == credit_id)
        .ok_or(ApiError::NotFound("credit note"))?;
    let settings = settings(s, &caller.tenant).await?;
    let doc = docs::credit_note_document(note, &inv, &settings);
    let xml = ubl::render(&doc).map_err(docs::document_error)?;
    Ok(File {
        content_type: "application/xml",
        name: format!("{}.xml", note.number),
        bytes: xml.into_bytes(),
    })
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Xero,
    Quickbooks,
}

#[derive(Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    pub format: ExportFormat,
    /// First issue date exported (inclusive).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Last issue date exported (inclusive).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
}

/// `GET /v1/exports/invoices`: issued invoices (and, for Xero, credit notes)
/// of the period as the accounting tool's import file.
pub async fn export(s: &Services, caller: &Caller, p: ExportParams) -> ApiResult<File> {
    access::require_bills(caller)?;
    if let (Some(f), Some(t)) = (p.from, p.to) {
        if f > t {
            return Err(ApiError::field("query.to", "must not be before from"));
        }
    }
    let tenant = caller.tenant.as_str();
    let settings = settings(s, tenant).await?;
    let q = Query::new(Index::Gsi1, keys::invoices(tenant)).limit(200);
    let mut invoices: Vec<Invoice> =
        agencyops_store::record::all_up_to::<Invoice>(&*s.table, &q, MAX_EXPORT)
            .await?
            .into_iter()
            .filter(|i| {
                !i.status.is_draft() && i.status != agencyops_domain::invoice::InvoiceStatus::Void
            })
            .filter(|i| {
                i.issue_date
                    .is_some_and(|d| p.from.is_none_or(|f| d >= f) && p.to.is_none_or(|t| d <= t))
            })
            .collect();
    invoices.sort_by(|a, b| a.number.cmp(&b.number));
    let mut documents = Vec::new();
    for inv in &invoices {
        documents.push(docs::invoice_document(
            inv,
            &settings,
            &[],
            &Default::default(),
        ));
        if matches!(p.format, ExportFormat::Xero) && !inv.credit_note_ids.is_empty() {
            let cq = Query::new(Index::Table, keys::invoice_partition(tenant, &inv.id)).sk(
                agencyops_store::SkCondition::BeginsWith(keys::credit_notes_prefix()),
            );
            for note in all::<CreditNote>(&*s.table, &cq).await? {
                documents.push(docs::credit_note_document(&note, inv, &settings));
            }
        }
    }
    let (bytes, name) = match p.format {
        ExportFormat::Xero => (
            exports::xero_csv(&documents).map_err(docs::document_error)?,
            "xero-invoices.csv",
        ),
        ExportFormat::Quickbooks => (
            exports::quickbooks_csv(&documents).map_err(docs::document_error)?,
            "quickbooks-invoices.csv",
        ),
    };
    Ok(File {
        content_type: "text/csv; charset=utf-8",
        name: name.into(),
        bytes,
    })
}
