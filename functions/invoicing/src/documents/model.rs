//! The document model every renderer reads. Amounts are already final (rounded
//! by the invoice maths); renderers print them and never compute money.

use agencyops_domain::Currency;
use jiff::civil::Date;
use rust_decimal::Decimal;

/// The agency (seller) or the client (buyer).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Party {
    pub name: String,
    pub address_lines: Vec<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country_code: Option<String>,
    /// VAT or other tax registration id.
    pub tax_id: Option<String>,
    pub email: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DocumentKind {
    Invoice,
    /// Amends the invoice it names (EU VAT Directive art. 219).
    CreditNote {
        invoice_number: String,
        invoice_issue_date: Date,
        reason: String,
    },
}

/// What a line's quantity counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineUnit {
    Hours,
    Each,
}

/// A time entry listed under its line on a detailed invoice.
#[derive(Clone, Debug, PartialEq)]
pub struct DocumentEntry {
    pub date: Date,
    pub person: String,
    pub note: String,
    pub hours: Decimal,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DocumentLine {
    pub description: String,
    pub quantity: Decimal,
    pub unit: LineUnit,
    pub unit_price: Decimal,
    /// Write-up (positive) or write-down (negative) on top of quantity x price.
    pub adjustment: Decimal,
    /// Net amount: quantity x unit price (rounded) + adjustment.
    pub amount: Decimal,
    /// Tax rate codes (see [`DocumentTax::code`]); empty when untaxed.
    pub tax_codes: Vec<String>,
    /// Entries under the line, when the invoice is detailed.
    pub entries: Vec<DocumentEntry>,
    /// The last day of the work the line bills, if it bills dated work.
    pub service_date: Option<Date>,
    /// Ledger account for accounting exports (Xero `*AccountCode`).
    pub account_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DocumentTax {
    pub code: String,
    pub name: String,
    pub percent: Decimal,
    pub taxable: Decimal,
    pub amount: Decimal,
    /// Xero's name for the rate (its `*TaxType`); the name when unset.
    pub xero_tax_type: Option<String>,
    /// QuickBooks Online's tax code (its `*ItemTaxCode`); the code when unset.
    pub qbo_tax_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceDocument {
    pub kind: DocumentKind,
    /// The issued number (drafts are never rendered for sending).
    pub number: String,
    pub issue_date: Date,
    pub due_date: Option<Date>,
    pub currency: Currency,
    pub po_number: Option<String>,
    pub notes: Option<String>,
    pub payment_terms_days: u32,
    /// How to pay (bank details), printed under the totals.
    pub payment_instructions: Option<String>,
    pub seller: Party,
    pub buyer: Party,
    pub lines: Vec<DocumentLine>,
    /// Sum of line amounts (BR-CO-10).
    pub line_total: Decimal,
    pub discount_total: Decimal,
    /// Line total less discount (BR-CO-13).
    pub tax_exclusive: Decimal,
    pub tax_breakdown: Vec<DocumentTax>,
    pub tax_total: Decimal,
    /// Tax-exclusive total plus tax (BR-CO-15).
    pub total: Decimal,
    pub amount_paid: Decimal,
    pub amount_credited: Decimal,
    pub balance_due: Decimal,
    /// True once voided: documents say so plainly.
    pub void: bool,
}
