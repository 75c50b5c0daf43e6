//! What an invoice looks like to its reader. Staff see everything; a client
//! user sees the issued document's content and payments, never internal
//! notes, who drafted it or the agency's costs.

use agencyops_domain::invoice::{Discount, InvoiceStatus};
use agencyops_domain::Currency;
use agencyops_platform::{access, Caller};
use agencyops_store::records::{
    ClaimBatch, CreditNote, Invoice, InvoiceDetail, InvoiceKind, InvoiceLine, LineKind, LineUnit,
    Payment, WorkKind,
};
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

/// Money as the API writes it: a decimal string.
type Amount = String;

/// At least the currency's minor digits (`0.00`, `27.50`), never fewer, so
/// every amount reads as money; finer rates keep their digits.
fn money_in(d: Decimal, currency: Currency) -> Amount {
    let mut x = d.normalize();
    if x.scale() < currency.minor_units() {
        x.rescale(currency.minor_units());
    }
    x.to_string()
}

/// A time entry or expense billed on a line (detailed invoices).
#[derive(Serialize, ToSchema)]
pub struct BilledWorkView {
    pub id: String,
    pub kind: String,
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub person_id: String,
    pub note: String,
    /// Hours billed for a time entry.
    #[schema(value_type = Option<String>)]
    pub hours: Option<String>,
    /// What an expense bills (with markup).
    #[schema(value_type = Option<String>)]
    pub amount: Option<String>,
    /// Where the expense's receipt is read, when it has one.
    pub receipt_path: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LineView {
    pub id: String,
    pub kind: LineKind,
    pub description: String,
    #[schema(value_type = String, example = "12.5")]
    pub quantity: String,
    pub unit: LineUnit,
    #[schema(value_type = String, example = "120.00")]
    pub unit_price: Amount,
    /// Write-up (positive) or write-down (negative) of the line.
    #[schema(value_type = String, example = "0")]
    pub adjustment: Amount,
    /// Net: quantity x unit price, rounded once, plus the adjustment.
    #[schema(value_type = String, example = "1500.00")]
    pub amount: Amount,
    /// The line's tax rate when it has exactly one.
    pub tax_code: Option<String>,
    pub tax_codes: Vec<String>,
    pub project_id: Option<String>,
    pub milestone_id: Option<String>,
    /// The entries and expenses under the line, on detailed invoices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<BilledWorkView>>,
}

#[derive(Serialize, ToSchema)]
pub struct TaxView {
    pub code: String,
    pub name: String,
    #[schema(value_type = String)]
    pub percent: String,
    #[schema(value_type = String)]
    pub taxable: Amount,
    #[schema(value_type = String)]
    pub amount: Amount,
}

#[derive(Serialize, ToSchema)]
pub struct DiscountView {
    #[schema(value_type = Option<String>)]
    pub percent: Option<String>,
    #[schema(value_type = Option<String>)]
    pub amount: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PaymentView {
    pub id: String,
    #[schema(value_type = String)]
    pub amount: Amount,
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub method: String,
    pub reference: Option<String>,
    pub reversed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CreditNoteView {
    pub id: String,
    pub number: String,
    pub invoice_id: String,
    #[schema(value_type = String, format = Date)]
    pub issue_date: Date,
    pub reason: String,
    pub lines: Vec<LineView>,
    #[schema(value_type = String)]
    pub subtotal: Amount,
    pub tax_breakdown: Vec<TaxView>,
    #[schema(value_type = String)]
    pub tax_total: Amount,
    #[schema(value_type = String)]
    pub total: Amount,
    pub released_work: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DocumentView {
    /// SHA-256 of the document kept when the invoice was issued.
    pub sha256: String,
    pub content_type: String,
}

#[derive(Serialize, ToSchema)]
pub struct InvoiceView {
    pub id: String,
    /// None until issued.
    pub number: Option<String>,
    pub status: InvoiceStatus,
    pub kind: InvoiceKind,
    pub client_id: String,
    pub currency: Currency,
    #[schema(value_type = Option<String>, format = Date)]
    pub issue_date: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Date>,
    pub payment_terms_days: u32,
    pub po_number: Option<String>,
    pub notes: Option<String>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_note: Option<String>,
    pub detail: InvoiceDetail,
    pub lines: Vec<LineView>,
    /// Sum of line amounts.
    #[schema(value_type = String)]
    pub subtotal: Amount,
    pub discount: Option<DiscountView>,
    #[schema(value_type = String)]
    pub discount_total: Amount,
    pub tax_breakdown: Vec<TaxView>,
    #[schema(value_type = String)]
    pub tax_total: Amount,
    #[schema(value_type = String)]
    pub total: Amount,
    #[schema(value_type = String)]
    pub amount_paid: Amount,
    #[schema(value_type = String)]
    pub amount_credited: Amount,
    #[schema(value_type = String)]
    pub balance_due: Amount,
    /// Sum of write-downs and write-ups on the lines (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub adjustments_total: Option<Amount>,
    #[schema(value_type = Option<String>)]
    pub written_off: Option<Amount>,
    pub payments: Vec<PaymentView>,
    pub credit_notes: Vec<CreditNoteView>,
    pub document: Option<DocumentView>,
    /// Staff only: who drafted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub version: u64,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

/// An invoice in a list: its header and figures, no lines.
#[derive(Serialize, ToSchema)]
pub struct InvoiceSummary {
    pub id: String,
    pub number: Option<String>,
    pub status: InvoiceStatus,
    pub kind: InvoiceKind,
    pub client_id: String,
    pub currency: Currency,
    #[schema(value_type = Option<String>, format = Date)]
    pub issue_date: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Date>,
    #[schema(value_type = String)]
    pub total: Amount,
    #[schema(value_type = String)]
    pub balance_due: Amount,
    pub version: u64,
}

fn work_view(w: &agencyops_store::records::ClaimedWork) -> BilledWorkView {
    BilledWorkView {
        id: w.id.clone(),
        kind: match w.kind {
            WorkKind::Time => "time".into(),
            WorkKind::Expense => "expense".into(),
        },
        date: w.date,
        person_id: w.person_id.clone(),
        note: w.note.clone(),
        hours: w.billed_minutes.map(|m| {
            agencyops_domain::invoice::hours(u64::from(m))
                .normalize()
                .to_string()
        }),
        amount: (w.kind == WorkKind::Expense).then(|| w.value.round_dp(2).to_string()),
        receipt_path: (w.kind == WorkKind::Expense && w.has_receipt)
            .then(|| format!("/v1/expenses/{}/receipt", w.id)),
    }
}

pub fn line_view(
    l: &InvoiceLine,
    currency: Currency,
    work: Option<&[&agencyops_store::records::ClaimedWork]>,
) -> LineView {
    let money = |d| money_in(d, currency);
    LineView {
        id: l.id.clone(),
        kind: l.kind,
        description: l.description.clone(),
        quantity: l.quantity.normalize().to_string(),
        unit: l.unit,
        unit_price: money(l.unit_price),
        adjustment: money(l.adjustment),
        amount: money(l.amount),
        tax_code: (l.tax_codes.len() == 1).then(|| l.tax_codes[0].clone()),
        tax_codes: l.tax_codes.clone(),
        project_id: l.project_id.clone(),
        milestone_id: l.milestone_id.clone(),
        entries: work.map(|ws| {
            let mut v: Vec<_> = ws
                .iter()
                .filter(|w| w.line_id == l.id)
                .map(|w| work_view(w))
                .collect();
            v.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
            v
        }),
    }
}

fn tax_views(t: &[agencyops_domain::invoice::TaxAmount], currency: Currency) -> Vec<TaxView> {
    let money = |d| money_in(d, currency);
    t.iter()
        .map(|b| TaxView {
            code: b.code.clone(),
            name: b.name.clone(),
            percent: b.percent.normalize().to_string(),
            taxable: money(b.taxable),
            amount: money(b.amount),
        })
        .collect()
}

pub fn credit_note_view(c: &CreditNote) -> CreditNoteView {
    let money = |d| money_in(d, c.currency);
    CreditNoteView {
        id: c.id.clone(),
        number: c.number.clone(),
        invoice_id: c.invoice_id.clone(),
        issue_date: c.issue_date,
        reason: c.reason.clone(),
        lines: c
            .lines
            .iter()
            .map(|l| line_view(l, c.currency, None))
            .collect(),
        subtotal: money(c.line_total),
        tax_breakdown: tax_views(&c.tax_breakdown, c.currency),
        tax_total: money(c.tax_total),
        total: money(c.total),
        released_work: c.released_work,
    }
}

/// Everything stored about one invoice, read in one query of its partition.
#[derive(Default)]
pub struct InvoiceParts {
    pub batches: Vec<ClaimBatch>,
    pub payments: Vec<Payment>,
    pub credit_notes: Vec<CreditNote>,
}

pub fn invoice_view(caller: &Caller, inv: &Invoice, parts: &InvoiceParts) -> InvoiceView {
    let money = |d| money_in(d, inv.currency);
    let staff = access::sees_invoice_internals(caller);
    let work: Vec<&agencyops_store::records::ClaimedWork> = parts
        .batches
        .iter()
        .filter(|b| !b.released)
        .flat_map(|b| b.work.iter())
        .collect();
    let detailed = inv.detail == InvoiceDetail::Detailed;
    InvoiceView {
        id: inv.id.clone(),
        number: inv.number.clone(),
        status: inv.status,
        kind: inv.kind,
        client_id: inv.client_id.clone(),
        currency: inv.currency,
        issue_date: inv.issue_date,
        due_date: inv.due_date,
        payment_terms_days: inv.payment_terms_days,
        po_number: inv.po_number.clone(),
        notes: inv.notes.clone(),
        internal_note: inv.internal_note.clone().filter(|_| staff),
        detail: inv.detail,
        lines: inv
            .lines
            .iter()
            .map(|l| line_view(l, inv.currency, detailed.then_some(work.as_slice())))
            .collect(),
        subtotal: money(inv.line_total),
        discount: inv.discount.map(|d| match d {
            Discount::Percent(p) => DiscountView {
                percent: Some(p.normalize().to_string()),
                amount: None,
            },
            Discount::Amount(a) => DiscountView {
                percent: None,
                amount: Some(money(a)),
            },
        }),
        discount_total: money(inv.discount_total),
        tax_breakdown: tax_views(&inv.tax_breakdown, inv.currency),
        tax_total: money(inv.tax_total),
        total: money(inv.total),
        amount_paid: money(inv.amount_paid),
        amount_credited: money(inv.amount_credited),
        balance_due: money(inv.balance_due()),
        adjustments_total: staff.then(|| money(inv.lines.iter().map(|l| l.adjustment).sum())),
        written_off: inv.written_off.map(money),
        payments: parts
            .payments
            .iter()
            .map(|p| PaymentView {
                id: p.id.clone(),
                amount: money(p.amount),
                date: p.date,
                method: p.method.clone(),
                reference: p.reference.clone(),
                reversed: p.reversed_at.is_some(),
            })
            .collect(),
        credit_notes: parts.credit_notes.iter().map(credit_note_view).collect(),
        document: inv.document.as_ref().map(|d| DocumentView {
            sha256: d.sha256.clone(),
            content_type: d.content_type.clone(),
        }),
        created_by: staff.then(|| inv.created_by.clone()),
        version: inv.version,
        created_at: inv.created_at,
        updated_at: inv.updated_at,
    }
}

pub fn summary(inv: &Invoice) -> InvoiceSummary {
    let money = |d| money_in(d, inv.currency);
    InvoiceSummary {
        id: inv.id.clone(),
        number: inv.number.clone(),
        status: inv.status,
        kind: inv.kind,
        client_id: inv.client_id.clone(),
        currency: inv.currency,
        issue_date: inv.issue_date,
        due_date: inv.due_date,
        total: money(inv.total),
        balance_due: money(inv.balance_due()),
        version: inv.version,
    }
}
