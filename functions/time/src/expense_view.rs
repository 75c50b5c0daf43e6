//! An expense as people see it, built per caller from the stored record: the
//! amount the person typed for everyone who may see the expense; the markup,
//! the billed amount and who recorded or changed it only for admin, finance
//! and managers. The receipt shows what a user needs, never where storage
//! keeps the file.

use agencyops_domain::timesheet::WorkStatus;
use agencyops_domain::Currency;
use agencyops_platform::resource;
use agencyops_store::records::{
    Expense, ExpenseApproval, Receipt, ReceiptStatus, ReceiptSuggestions,
};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::view::{Audience, RejectionView};

/// An expense as a response.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExpenseView {
    pub id: String,
    pub person_id: String,
    pub project_id: String,
    #[schema(value_type = String, example = "2026-11-20")]
    pub date: Date,
    /// What was spent, as the person typed it.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "42.50")]
    pub amount: Decimal,
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    pub category: String,
    pub note: String,
    pub billable: bool,
    /// Added on top when re-billed, e.g. "10" for 10 % (admin, finance and
    /// managers only; absent for everyone else).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rust_decimal::serde::str_option::serialize"
    )]
    #[schema(value_type = Option<String>, example = "10")]
    pub markup_percent: Option<Decimal>,
    pub status: WorkStatus,
    pub approval: Option<ExpenseApprovalView>,
    pub rejection: Option<RejectionView>,
    pub invoice_id: Option<String>,
    pub receipt: Option<ReceiptSummary>,
    /// Who recorded it (admin, finance and managers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// Who last changed it (admin, finance and managers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    pub version: u64,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

/// Who approved the expense and when; what the client is billed for it only
/// for admin, finance and managers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExpenseApprovalView {
    pub approved_by: String,
    #[schema(value_type = String)]
    pub approved_at: Timestamp,
    /// Amount plus markup, unrounded (staff only).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rust_decimal::serde::str_option::serialize"
    )]
    #[schema(value_type = Option<String>)]
    pub billed_amount: Option<Decimal>,
}

impl ExpenseApprovalView {
    fn of(a: ExpenseApproval, audience: Audience) -> ExpenseApprovalView {
        ExpenseApprovalView {
            approved_by: a.approved_by,
            approved_at: a.approved_at,
            billed_amount: audience.staff_only(Some(a.billed_amount)),
        }
    }
}

/// The expense's receipt: where it is in checking and what was found in it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReceiptSummary {
    pub status: ReceiptStatus,
    /// The type the content shows (accepted receipts).
    pub content_type: Option<String>,
    /// Bytes received.
    pub size: Option<u64>,
    /// Hex SHA-256 of the file.
    pub sha256: Option<String>,
    /// Why the file was refused.
    pub reason: Option<String>,
    /// Read from a text PDF; compare with what was typed, nothing is changed.
    pub suggestions: Option<ReceiptSuggestions>,
}

impl From<Receipt> for ReceiptSummary {
    fn from(r: Receipt) -> Self {
        ReceiptSummary {
            status: r.status,
            content_type: r.content_type,
            size: r.size,
            sha256: r.sha256,
            reason: r.reason,
            suggestions: r.suggestions,
        }
    }
}

/// The view of an expense for `audience`.
pub fn view(e: Expense, audience: Audience) -> ExpenseView {
    ExpenseView {
        id: e.id,
        person_id: e.person_id,
        project_id: e.project_id,
        date: e.date,
        amount: e.amount,
        currency: e.currency,
        category: e.category,
        note: e.note,
        billable: e.billable,
        markup_percent: audience.staff_only(e.markup_percent),
        status: e.status,
        approval: e.approval.map(|a| ExpenseApprovalView::of(a, audience)),
        rejection: e.rejection.as_ref().map(RejectionView::of),
        invoice_id: e.invoice_id,
        receipt: e.receipt.map(ReceiptSummary::from),
        recorded_by: audience.staff_only(e.recorded_by),
        changed_by: audience.staff_only(e.changed_by),
        version: e.version,
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

/// An expense as a response, with its ETag (and Location when just created).
pub fn respond(status: StatusCode, view: &ExpenseView, location: bool) -> Response {
    let location = location.then(|| format!("/v1/expenses/{}", view.id));
    resource::respond_versioned(status, view, view.version, location)
}
