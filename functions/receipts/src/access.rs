//! Who may see or change an expense's receipt. The person who spent the money
//! and the staff who run the agency (admin, finance, manager) see the expense;
//! of those, the owner, admins and managers may attach a receipt (finance
//! reviews, it does not edit). Anyone else is told it does not exist; client
//! users never deal with expenses.

use std::sync::Arc;

use agencyops_domain::timesheet::WorkStatus;
use agencyops_platform::access;
use agencyops_platform::blob::Blob;
use agencyops_platform::resource::fetch;
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::keys;
use agencyops_store::records::Expense;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    View,
    Attach,
}

/// The expense, if the caller may do `intent` with its receipt.
pub async fn expense_for(
    s: &Services,
    caller: &Caller,
    id: &str,
    intent: Intent,
) -> ApiResult<Expense> {
    access::refuse_client(caller)?;
    let expense = fetch::<Expense>(s, &keys::expense(&caller.tenant, id)).await?;
    if !access::sees_work_of(caller, &expense.person_id) {
        return Err(ApiError::NotFound("expense"));
    }
    if intent == Intent::Attach {
        access::may_change_work_of(caller, &expense.person_id)?;
    }
    Ok(expense)
}

/// Approved and invoiced expenses are history: their receipt is fixed.
/// Draft, submitted and rejected ones still take one (an approver often asks
/// for the receipt of a submitted expense).
pub fn takes_receipts(status: WorkStatus) -> Result<(), &'static str> {
    match status {
        WorkStatus::Approved | WorkStatus::Invoiced => {
            Err(status.locked_reason().unwrap_or("the expense is locked"))
        }
        WorkStatus::Draft | WorkStatus::Submitted | WorkStatus::Rejected => Ok(()),
    }
}

/// The file store, or a 500: a deployment without a bucket cannot take receipts.
pub fn storage(s: &Services) -> ApiResult<Arc<dyn Blob>> {
    s.blob
        .clone()
        .ok_or_else(|| ApiError::Internal("no file storage configured".into()))
}
