//! From a stored invoice to its document, and keeping the issued one: at
//! issue the PDF (and its HTML twin) is rendered once, stored in the blob store
//! under the invoice's number and its SHA-256 recorded on the invoice, so a
//! later rate, name or settings change never alters what was sent.

use agencyops_platform::{ApiError, ApiResult, Services};
use agencyops_store::keys;
use agencyops_store::records::{
    ClaimBatch, CreditNote, Invoice, InvoiceDetail, InvoiceLine, InvoicingSettings, LineUnit,
    StoredDocument,
};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::model::{
    DocumentEntry, DocumentKind, DocumentLine, DocumentTax, InvoiceDocument, LineUnit as DocUnit,
    Party,
};
use crate::drafts::lines::Names;

pub const PDF: &str = "application/pdf";
pub const HTML: &str = "text/html; charset=utf-8";

fn seller(settings: &InvoicingSettings) -> Party {
    let a = &settings.agency;
    Party {
        name: a.name.clone(),
        address_lines: a.address_lines.clone(),
        city: a.city.clone(),
        postal_code: a.postal_code.clone(),
        country_code: a.country_code.clone(),
        tax_id: a.tax_id.clone(),
        email: a.email.clone(),
    }
}

fn buyer(inv: &Invoice) -> Party {
    Party {
        name: inv.bill_to.name.clone(),
        email: inv.bill_to.email.clone(),
        ..Party::default()
    }
}

fn doc_line(
    l: &InvoiceLine,
    settings: &InvoicingSettings,
    entries: Vec<DocumentEntry>,
) -> DocumentLine {
    DocumentLine {
        description: l.description.clone(),
        quantity: l.quantity,
        unit: match l.unit {
            LineUnit::Hours => DocUnit::Hours,
            LineUnit::Each => DocUnit::Each,
        },
        unit_price: l.unit_price,
        adjustment: l.adjustment,
        amount: l.amount,
        tax_codes: l.tax_codes.clone(),
        entries,
        service_date: l.service_date,
        account_code: Some(settings.account_code.clone()),
    }
}

fn taxes(
    inv_rates: &[agencyops_domain::invoice::TaxRateSpec],
    breakdown: &[agencyops_domain::invoice::TaxAmount],
) -> Vec<DocumentTax> {
    breakdown
        .iter()
        .map(|b| {
            let spec = inv_rates.iter().find(|r| r.code == b.code);
            DocumentTax {
                code: b.code.clone(),
                name: b.name.clone(),
                percent: b.percent,
                taxable: b.taxable,
                amount: b.amount,
                xero_tax_type: spec.and_then(|s| s.xero_tax_type.clone()),
                qbo_tax_code: spec.and_then(|s| s.qbo_tax_code.clone()),
            }
        })
        .collect()
}

/// The invoice as its document shows it.
pub fn invoice_document(
    inv: &Invoice,
    settings: &InvoicingSettings,
    batches: &[ClaimBatch],
    names: &Names,
) -> InvoiceDocument {
    let detailed = inv.detail == InvoiceDetail::Detailed;
    let lines = inv
        .lines
        .iter()
        .map(|l| {
            let mut entries: Vec<DocumentEntry> = if detailed {
                batches
                    .iter()
                    .filter(|b| !b.released)
                    .flat_map(|b| b.work.iter())
                    .filter(|w| w.line_id == l.id && w.billed_minutes.is_some())
                    .map(|w| DocumentEntry {
                        date: w.date,
                        person: names
                            .people
                            .get(&w.person_id)
                            .cloned()
                            .unwrap_or_else(|| w.person_id.clone()),
                        note: w.note.clone(),
                        hours: agencyops_domain::invoice::hours(u64::from(
                            w.billed_minutes.unwrap_or(0),
                        )),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            entries.sort_by(|a, b| (a.date, &a.person).cmp(&(b.date, &b.person)));
            doc_line(l, settings, entries)
        })
        .collect();
    InvoiceDocument {
        kind: DocumentKind::Invoice,
        number: inv.number.clone().unwrap_or_else(|| "DRAFT".into()),
        issue_date: inv
            .issue_date
            .unwrap_or_else(|| inv.created_at.to_zoned(jiff::tz::TimeZone::UTC).date()),
        due_date: inv.due_date,
        currency: inv.currency,
        po_number: inv.po_number.clone(),
        notes: inv.notes.clone(),
        payment_terms_days: inv.payment_terms_days,
        payment_instructions: settings.payment_instructions.clone(),
        seller: seller(settings),
        buyer: buyer(inv),
        lines,
        line_total: inv.line_total,
        discount_total: inv.discount_total,
        tax_exclusive: inv.line_total - inv.discount_total,
        tax_breakdown: taxes(&inv.tax_rates, &inv.tax_breakdown),
        tax_total: inv.tax_total,
        total: inv.total,
        amount_paid: inv.amount_paid,
        amount_credited: inv.amount_credited,
        balance_due: inv.balance_due(),
        void: inv.status == agencyops_domain::invoice::InvoiceStatus::Void,
    }
}

/// A credit note as its document shows it.
pub fn credit_note_document(
    note: &CreditNote,
    inv: &Invoice,
    settings: &InvoicingSettings,
) -> InvoiceDocument {
    InvoiceDocument {
        kind: DocumentKind::CreditNote {
            invoice_number: inv.number.clone().unwrap_or_default(),
            invoice_issue_date: inv.issue_date.unwrap_or(note.issue_date),
            reason: note.reason.clone(),
        },
        number: note.number.clone(),
        issue_date: note.issue_date,
        due_date: None,
        currency: note.currency,
        po_number: inv.po_number.clone(),
        notes: None,
        payment_terms_days: inv.payment_terms_days,
        payment_instructions: settings.payment_instructions.clone(),
        seller: seller(settings),
        buyer: buyer(inv),
        lines: note
            .lines
            .iter()
            .map(|l| doc_line(l, settings, Vec::new()))
            .collect(),
        line_total: note.line_total,
        discount_total: rust_decimal::Decimal::ZERO,
        tax_exclusive: note.line_total,
        tax_breakdown: taxes(&note.tax_rates, &note.tax_breakdown),
        tax_total: note.tax_total,
        total: note.total,
        amount_paid: rust_decimal::Decimal::ZERO,
        amount_credited: rust_decimal::Decimal::ZERO,
        balance_due: note.total,
        void: false,
    }
}

pub fn document_error(e: super::DocumentError) -> ApiError {
    if e.is_request_error() {
        ApiError::Conflict(agencyops_platform::Conflict::StorageRefused(e.to_string()))
    } else {
        ApiError::Internal(e.to_string())
    }
}

/// Renders and stores the issued document; None where no blob store is configured.
pub async fn keep_issued(
    s: &Services,
    tenant: &str,
    doc: &InvoiceDocument,
    invoice_id: &str,
) -> ApiResult<Option<StoredDocument>> {
    let Some(blob) = &s.blob else { return Ok(None) };
    let pdf = super::pdf::render(doc).map_err(document_error)?;
    let html = super::html::render(doc);
    let sha256 = hex::encode(Sha256::digest(&pdf));
    let file = doc.number.replace(['/', '\\', ' '], "_");
    let blob_key = keys::invoice_document_object(tenant, invoice_id, &format!("{file}.pdf"));
    let html_key = keys::invoice_document_object(tenant, invoice_id, &format!("{file}.html"));
    blob.put(&blob_key, Bytes::from(pdf), PDF)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    blob.put(&html_key, Bytes::from(html.into_bytes()), HTML)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Some(StoredDocument {
        blob_key,
        sha256,
        content_type: PDF.into(),
    }))
}

/// The stored twin of a kept PDF, in HTML.
pub fn html_key(doc: &StoredDocument) -> String {
    doc.blob_key.trim_end_matches(".pdf").to_owned() + ".html"
}
