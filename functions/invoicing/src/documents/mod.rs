//! What an invoice or credit note says on paper, and the formats it leaves in:
//! PDF and HTML for people, UBL 2.1 for e-invoicing, CSV for Xero and
//! QuickBooks. Renderers are pure functions of an [`InvoiceDocument`], which the
//! operations build from the stored invoice once, so every format shows the
//! same figures (IN #10936: the PDF and the screen must never disagree).

pub mod exports;
pub mod html;
pub mod model;
pub mod pdf;
pub mod store;
pub mod ubl;

pub use model::*;

use agencyops_domain::Currency;
use rust_decimal::Decimal;

/// Why a document could not be rendered. The limits and the one-rate-per-line
/// rule are the caller's to fix (4xx); a failing writer is ours (5xx).
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("Xero imports at most {max} invoices a file; this export has {count}: export them in smaller batches")]
    TooManyForXero { count: usize, max: usize },
    #[error("QuickBooks Online imports at most {max} invoices a file; this export has {count}: export them in smaller batches")]
    TooManyInvoicesForQuickBooks { count: usize, max: usize },
    #[error("QuickBooks Online imports at most {max} rows a file; this export has {count}: export fewer invoices at a time")]
    TooManyRowsForQuickBooks { count: usize, max: usize },
    #[error(
        "QuickBooks Online takes invoice numbers of at most {max} characters; {number:?} has {len}"
    )]
    NumberTooLongForQuickBooks {
        number: String,
        len: usize,
        max: usize,
    },
    #[error("QuickBooks Online's invoice import takes no credit notes; leave credit note {number} out of this export and enter it in QuickBooks as a credit memo")]
    CreditNoteForQuickBooks { number: String },
    /// EN 16931 gives each line exactly one VAT category and rate (BR-CO-4,
    /// BT-151/152), so a line taxed at two rates has no e-invoice form.
    #[error(
        "line {line} is taxed at {count} rates; an e-invoice line carries one VAT rate at most"
    )]
    SeveralRatesOnLine { line: usize, count: usize },
    #[error("line {line} names tax rate {code:?}, which is not in the document's tax breakdown")]
    UnknownTaxCode { line: usize, code: String },
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
    #[error("the e-invoice XML could not be written: {0}")]
    Xml(String),
    #[error("the CSV could not be written: {0}")]
    Csv(String),
}

impl DocumentError {
    /// True when the request asked for something the format cannot take
    /// (a 4xx); false when our own writer failed (a 5xx).
    pub fn is_request_error(&self) -> bool {
        !matches!(
            self,
            DocumentError::Pdf(_) | DocumentError::Xml(_) | DocumentError::Csv(_)
        )
    }
}

/// What the document calls itself.
pub(crate) fn title(doc: &InvoiceDocument) -> &'static str {
    match doc.kind {
        DocumentKind::Invoice => "Invoice",
        DocumentKind::CreditNote { .. } => "Credit note",
    }
}

/// An amount with exactly the currency's minor-unit decimals ("100.00", not
/// "100"), so every format prints the same figure. Amounts arrive final; this
/// only pads, it never rounds one that has more decimals.
pub(crate) fn money(amount: Decimal, currency: Currency) -> String {
    let mut a = amount;
    if a.scale() < currency.minor_units() {
        a.rescale(currency.minor_units());
    }
    a.to_string()
}

/// A quantity as billed, without trailing zeros (0.8333 h stays 0.8333).
pub(crate) fn quantity(q: Decimal) -> String {
    q.normalize().to_string()
}

/// A quantity with its unit, as people read it.
pub(crate) fn quantity_with_unit(q: Decimal, unit: LineUnit) -> String {
    match unit {
        LineUnit::Hours => format!("{} h", quantity(q)),
        LineUnit::Each => quantity(q),
    }
}

/// The sentence printed for the payment terms.
pub(crate) fn payment_terms(doc: &InvoiceDocument) -> String {
    match doc.payment_terms_days {
        0 => "Payment due on receipt".to_owned(),
        1 => "Payment due within 1 day".to_owned(),
        n => format!("Payment due within {n} days"),
    }
}

/// The lines that describe one party, in print order (name excluded).
pub(crate) fn party_lines(p: &Party) -> Vec<String> {
    let mut out: Vec<String> = p
        .address_lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .cloned()
        .collect();
    let city = [p.postal_code.as_deref(), p.city.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !city.is_empty() {
        out.push(city);
    }
    if let Some(c) = p.country_code.as_deref().filter(|c| !c.trim().is_empty()) {
        out.push(c.to_owned());
    }
    if let Some(t) = p.tax_id.as_deref().filter(|t| !t.trim().is_empty()) {
        out.push(format!("Tax ID: {t}"));
    }
    if let Some(e) = p.email.as_deref().filter(|e| !e.trim().is_empty()) {
        out.push(e.to_owned());
    }
    out
}
