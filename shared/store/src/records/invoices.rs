//! Invoices and what hangs off them: the batches of work they claimed, payments
//! and credit notes; the tenant's invoicing settings. Written by the invoicing
//! function and its builder; read by reports.

use agencyops_domain::invoice::{Discount, InvoiceStatus, TaxAmount, TaxRateSpec};
use agencyops_domain::rounding::TimeRounding;
use agencyops_domain::{Currency, MoneyRounding};
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{versioned, InvoiceDetail, TimeGrouping};
use crate::keys;
use crate::record::Record;
use crate::table::Key;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    TimeAndMaterials,
    FixedFee,
    Milestone,
    Manual,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpenseGrouping {
    /// One line per expense category.
    #[default]
    Category,
    /// One line per expense, linking its receipt.
    Expense,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Time,
    Expense,
    FixedFee,
    Milestone,
    Manual,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineUnit {
    Hours,
    Each,
}

/// One line as stored. Its amount is always recomputed from quantity, unit
/// price and adjustment by the invoice maths; it is kept so reports and
/// exports read what was billed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// Stable within the invoice: time and expense lines are named by what they group.
    pub id: String,
    pub kind: LineKind,
    pub description: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    pub unit: LineUnit,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
    /// Write-up (positive) or write-down (negative) of the line's amount.
    #[serde(with = "rust_decimal::serde::str")]
    pub adjustment: Decimal,
    /// quantity x unit price, rounded once.
    #[serde(with = "rust_decimal::serde::str")]
    pub gross: Decimal,
    /// Net: gross + adjustment.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub tax_codes: Vec<String>,
    /// Billed minutes behind a time line (after its rounding rule).
    pub minutes: Option<u64>,
    pub project_id: Option<String>,
    pub milestone_id: Option<String>,
    /// How many claimed entries or expenses the line bills.
    pub work_count: u32,
    /// The last day of the work it bills.
    pub service_date: Option<Date>,
}

/// Which approved work a time-and-materials invoice bills.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkSelection {
    pub project_ids: Vec<String>,
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// The fixed fee line an invoice was asked for: the fee, or a share of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FixedFeePart {
    pub project_id: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub percent: Decimal,
}

/// The client as an invoice addresses them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BillTo {
    pub name: String,
    pub email: Option<String>,
}

/// The issued document kept in the blob store, so a sent invoice never changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredDocument {
    pub blob_key: String,
    pub sha256: String,
    pub content_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub client_id: String,
    /// Who the invoice is addressed to, as the client was named when drafted.
    #[serde(default)]
    pub bill_to: BillTo,
    /// Stored as `invoice_kind`: `kind` is the item's record kind.
    #[serde(rename = "invoice_kind")]
    pub kind: InvoiceKind,
    pub status: InvoiceStatus,
    /// Assigned when issued; drafts have none.
    pub number: Option<String>,
    pub currency: Currency,
    pub issue_date: Option<Date>,
    pub due_date: Option<Date>,
    /// Set by the request; otherwise the client's payment terms decide the due date on issue.
    pub due_date_fixed: bool,
    pub payment_terms_days: u32,
    pub po_number: Option<String>,
    /// Printed on the invoice.
    pub notes: Option<String>,
    /// For the agency only; never shown to the client.
    pub internal_note: Option<String>,
    pub selection: Option<WorkSelection>,
    pub time_grouping: TimeGrouping,
    pub detail: InvoiceDetail,
    pub expense_grouping: ExpenseGrouping,
    pub fixed_fee: Option<FixedFeePart>,
    pub milestone_ids: Vec<String>,
    pub lines: Vec<InvoiceLine>,
    pub discount: Option<Discount>,
    /// The rates this invoice uses, as they were when it was drafted.
    pub tax_rates: Vec<TaxRateSpec>,
    /// The client's rates, applied to every line that names none.
    pub default_tax_codes: Vec<String>,
    pub rounding: MoneyRounding,
    #[serde(with = "rust_decimal::serde::str")]
    pub line_total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub discount_total: Decimal,
    pub tax_breakdown: Vec<TaxAmount>,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount_paid: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount_credited: Decimal,
    /// What was written off when it became uncollectible.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub written_off: Option<Decimal>,
    /// Claim batches written (`CLAIM#000001` ..).
    pub claim_batches: u32,
    /// Voided without handing its work back: the work stays billed here
    /// (written off with the invoice) rather than returning to WIP.
    #[serde(default)]
    pub keeps_work_when_void: bool,
    pub document: Option<StoredDocument>,
    /// Credit notes issued against it, in order.
    pub credit_note_ids: Vec<String>,
    pub created_by: String,
    /// The creator's role, for the audit of a build that finishes without them.
    pub created_by_role: agencyops_domain::Role,
    pub issued_at: Option<Timestamp>,
    /// When it was last mailed to the client by hand or on issue; dunning
    /// stays quiet for the policy's quiet days after it.
    #[serde(default)]
    pub last_sent_on: Option<Date>,
    /// The next day the dunning step should look at this invoice (its place
    /// in the due index). None until dunning first sets it: the invoice is
    /// then indexed at the earliest day any policy could act on it.
    #[serde(default)]
    pub next_action_on: Option<Date>,
    /// What this invoice bills if it is a late fee: the invoice and stage it
    /// was charged for. Fee invoices are not chased themselves (no fee on a fee).
    #[serde(default)]
    pub fee_for: Option<FeeFor>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Invoice {
    pub fn balance_due(&self) -> Decimal {
        agencyops_domain::invoice::PaymentState {
            total: self.total,
            paid: self.amount_paid,
            credited: self.amount_credited,
        }
        .balance_due()
    }
}

/// The reminder a fee invoice charges for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeeFor {
    pub invoice_id: String,
    pub stage: String,
}

/// How many days before the due date the earliest dunning stage may be
/// (policies are bounded to this), so an invoice never looked at yet is
/// indexed where any policy would find its first stage.
pub const DUNNING_MAX_LEAD_DAYS: i64 = 30;

impl Invoice {
    /// Whether something may still be owed and there is a date to chase it by:
    /// exactly the invoices the due index holds.
    pub fn may_be_chased(&self) -> bool {
        self.status.is_open()
            && self.due_date.is_some()
            && self.balance_due() > Decimal::ZERO
            && self.fee_for.is_none()
    }

    /// The day the dunning step looks at this invoice next (see `next_action_on`).
    pub fn dunning_date(&self) -> Option<Date> {
        let due = self.due_date?;
        self.next_action_on.or_else(|| {
            due.checked_sub(jiff::Span::new().days(DUNNING_MAX_LEAD_DAYS))
                .ok()
        })
    }
}

impl Record for Invoice {
    versioned!("invoice");
    fn key(&self, tenant: &str) -> Key {
        keys::invoice(tenant, &self.id)
    }
    /// In the due index while it may be chased: a payment, void, credit or
    /// write-off that closes it rewrites the item without these attributes,
    /// so it leaves the index with no extra write.
    fn index3_key(&self, tenant: &str) -> Option<(String, String)> {
        if !self.may_be_chased() {
            return None;
        }
        let on = self.dunning_date()?;
        Some((keys::ar_due(tenant), keys::ar_due_sort(on, &self.id)))
    }
    fn index_keys(&self, tenant: &str) -> [Option<(String, String)>; 2] {
        [
            Some((keys::invoices(tenant), keys::invoice_sort(&self.id))),
            Some((
                keys::client_invoices(tenant, &self.client_id),
                keys::invoice_sort(&self.id),
            )),
        ]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkKind {
    Time,
    Expense,
}

/// One entry or expense an invoice claimed, with what billing needs from it,
/// so lines, documents and reports never re-read the work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimedWork {
    pub kind: WorkKind,
    pub id: String,
    /// Where the entry or expense is stored (to release it).
    pub pk: String,
    pub sk: String,
    pub line_id: String,
    pub project_id: String,
    pub person_id: String,
    pub task_id: Option<String>,
    pub date: Date,
    pub note: String,
    /// Time: raw minutes and billed minutes after per-entry rounding.
    pub minutes: Option<u32>,
    pub billed_minutes: Option<u32>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub bill_rate: Option<Decimal>,
    /// The approved value (time) or billed amount with markup (expense), unrounded.
    #[serde(with = "rust_decimal::serde::str")]
    pub value: Decimal,
    /// What the work cost the agency (time at cost rate; an expense's amount).
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub cost: Option<Decimal>,
    pub category: Option<String>,
    pub has_receipt: bool,
    /// The project's time rounding when claimed.
    pub rounding: Option<TimeRounding>,
}

/// A batch of claimed work: written in the same transaction as the claims,
/// so an entry is on an invoice exactly when a batch names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimBatch {
    /// `invoice/seq`.
    pub id: String,
    pub invoice_id: String,
    pub seq: u32,
    pub work: Vec<ClaimedWork>,
    /// Handed back to WIP (void, deleted draft or line): the work is no longer on the invoice.
    pub released: bool,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl Record for ClaimBatch {
    versioned!("invoice_claim");
    fn key(&self, tenant: &str) -> Key {
        keys::invoice_claim(tenant, &self.invoice_id, self.seq)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub invoice_id: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: Currency,
    pub date: Date,
    pub method: String,
    pub reference: Option<String>,
    pub recorded_by: String,
    /// Reversed payments stay on record; they no longer count.
    pub reversed_at: Option<Timestamp>,
    pub reversed_by: Option<String>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for Payment {
    versioned!("payment");
    fn key(&self, tenant: &str) -> Key {
        keys::payment(tenant, &self.invoice_id, &self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditNote {
    pub id: String,
    pub invoice_id: String,
    pub client_id: String,
    pub number: String,
    pub issue_date: Date,
    pub currency: Currency,
    pub reason: String,
    pub lines: Vec<InvoiceLine>,
    pub tax_rates: Vec<TaxRateSpec>,
    pub rounding: MoneyRounding,
    #[serde(with = "rust_decimal::serde::str")]
    pub line_total: Decimal,
    pub tax_breakdown: Vec<TaxAmount>,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    /// Whether the invoice's claimed work went back to WIP with it.
    pub released_work: bool,
    pub created_by: String,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for CreditNote {
    versioned!("credit_note");
    fn key(&self, tenant: &str) -> Key {
        keys::credit_note(tenant, &self.invoice_id, &self.id)
    }
    fn index_keys(&self, tenant: &str) -> [Option<(String, String)>; 2] {
        [
            Some((keys::credit_notes(tenant), keys::credit_note_sort(&self.id))),
            None,
        ]
    }
}

/// The agency as its invoices name it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgencyDetails {
    pub name: String,
    pub address_lines: Vec<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub tax_id: Option<String>,
    pub email: Option<String>,
}

/// A tenant's invoicing settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvoicingSettings {
    /// Always "invoicing".
    pub id: String,
    pub number_pattern: String,
    pub credit_note_pattern: String,
    pub tax_rates: Vec<TaxRateSpec>,
    pub rounding: MoneyRounding,
    pub agency: AgencyDetails,
    pub payment_instructions: Option<String>,
    /// Ledger account for exported lines (Xero `*AccountCode`).
    pub account_code: String,
    /// The IANA time zone the agency bills in: recurring periods start on
    /// its calendar days (settings stored before it existed read as UTC).
    #[serde(default = "utc")]
    pub time_zone: String,
    pub version: u64,
    pub updated_at: Timestamp,
}

fn utc() -> String {
    "UTC".into()
}

impl InvoicingSettings {
    /// What a tenant that never saved settings invoices with.
    pub fn defaults(now: Timestamp) -> InvoicingSettings {
        InvoicingSettings {
            id: "invoicing".into(),
            number_pattern: "{YYYY}-{SEQ:4}".into(),
            credit_note_pattern: "CN-{YYYY}-{SEQ:4}".into(),
            tax_rates: Vec::new(),
            rounding: MoneyRounding::HalfUp,
            agency: AgencyDetails::default(),
            payment_instructions: None,
            account_code: "200".into(),
            time_zone: utc(),
            version: 0,
            updated_at: now,
        }
    }
}

impl Record for InvoicingSettings {
    versioned!("invoicing_settings");
    fn key(&self, tenant: &str) -> Key {
        keys::invoicing_settings(tenant)
    }
}

/// The last number issued in a series. Written under the value it had, in
/// the transaction that issues, so two issues never share a number and a
/// failed issue leaves no gap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberCounter {
    /// `INVOICE#2026` / `CREDIT#2026`.
    pub id: String,
    pub last: u64,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl Record for NumberCounter {
    versioned!("number_counter");
    fn key(&self, tenant: &str) -> Key {
        keys::counter(tenant, &self.id)
    }
}
