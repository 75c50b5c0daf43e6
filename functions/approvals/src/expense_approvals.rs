//! Expenses are approved one at a time, by the same people who approve time on
//! the expense's project. Approval fixes what the client will be billed (amount
//! plus markup); the change to the project's burn is announced after the write.
//! Repeating an approve or a reject re-announces the same change (same id), so a
//! client retrying after a failed announcement loses nothing and counts nothing twice.
//!
//! Change ids: an approval is announced as `expense:{id}:{version}` (the version
//! the approval wrote; nothing changes an approved expense but invoicing, which
//! makes it final). Its undoing is announced as that id plus `:undone`, kept
//! on the rejection, so a rejected expense that changes again (a receipt
//! arrives) still re-announces the very same undo.

use agencyops_domain::timesheet::{with_markup, WorkStatus};
use agencyops_domain::validate;
use agencyops_platform::access;
use agencyops_platform::error::Problems;
use agencyops_platform::events::{BurnChange, BurnKind, APPROVED_QUEUE};
use agencyops_platform::extract::{IfMatch, Json, Path};
use agencyops_platform::period::Period;
use agencyops_platform::resource::{self, fetch};
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::audit::AuditAction;
use agencyops_store::keys;
use agencyops_store::records::{Approval, Expense, ExpenseApproval, Project, Rejection};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use agencyops_time::expense_view::{self, ExpenseView};
use agencyops_time::view::Audience;

use crate::approvers::{require_manages, require_may_decide, require_may_submit};
use crate::weeks::MAX_REASON;
use agencyops_platform::extract::OptionalJson;

#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpenseAction {}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectExpense {
    /// Required (missing reads as empty, so the problem names the field).
    #[serde(default)]
    #[schema(
        required = true,
        max_length = 2000,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub reason: String,
}

async fn load(s: &Services, caller: &Caller, id: &str) -> ApiResult<Expense> {
    fetch::<Expense>(s, &keys::expense(&caller.tenant, id)).await
}

/// The caller may decide on this expense: by role, not their own, on a project they manage.
async fn require_decides(s: &Services, caller: &Caller, expense: &Expense) -> ApiResult<()> {
    require_may_decide(caller, &expense.person_id)?;
    require_manages(
        s,
        caller,
        [expense.project_id.as_str()],
        "only its project's managers, finance or an admin may decide on it",
    )
    .await
}

/// The expense as the caller may see it.
fn respond(caller: &Caller, expense: Expense) -> Response {
    let view = expense_view::view(expense, Audience::of(caller));
    expense_view::respond(StatusCode::OK, &view, false)
}

fn locked(status: WorkStatus) -> ApiError {
    ApiError::locked(format!(
        "this expense cannot change: {}",
        status.locked_reason().unwrap_or("it is closed")
    ))
}

#[utoipa::path(post, path = "/v1/expenses/{id}/submit", tag = "approvals", params(("id" = String, Path)),
    request_body(content = ExpenseAction, description = "Optional"),
    responses((status = 200, body = ExpenseView), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "submit_expense")]
pub async fn submit(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    OptionalJson(_body): OptionalJson<ExpenseAction>,
) -> ApiResult<Response> {
    access::refuse_client(&caller)?;
    let current = load(&s, &caller, &id).await?;
    require_may_submit(&caller, &current.person_id)?;
    match current.status {
        WorkStatus::Draft | WorkStatus::Rejected => {}
        WorkStatus::Submitted => {
            return Err(Conflict::AlreadySubmitted(
                "this expense is already submitted and waits for approval".into(),
            )
            .into())
        }
        other => return Err(locked(other)),
    }
    let period = Period::load(&s, &caller.tenant).await?;
    period.check(current.date)?;
    let tenant = caller.tenant.clone();
    let expense = resource::update(&s, &caller, current, if_match, AuditAction::Submit, |e| {
        e.status = WorkStatus::Submitted;
        Ok(vec![period.pin(&tenant)])
    })
    .await?;
    Ok(respond(&caller, expense))
}

#[utoipa::path(post, path = "/v1/expenses/{id}/approve", tag = "approvals", params(("id" = String, Path)),
    request_body(content = ExpenseAction, description = "Optional"),
    responses((status = 200, body = ExpenseView), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "approve_expense")]
pub async fn approve(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    OptionalJson(_body): OptionalJson<ExpenseAction>,
) -> ApiResult<Response> {
    access::require_takes_work_decisions(&caller)?;
    let current = load(&s, &caller, &id).await?;
    require_decides(&s, &caller, &current).await?;
    let project = fetch::<Project>(&s, &keys::project(&caller.tenant, &current.project_id)).await?;
    match current.status {
        WorkStatus::Submitted => {}
        WorkStatus::Approved => {
            // Already approved: announce again (the consumer ignores repeats).
            if let Some(a) = &current.approval {
                let id = approval_change_id(&current);
                announce(&s, &caller, &current, &project, a.billed_amount, false, &id).await?;
            }
            return Ok(respond(&caller, current));
        }
        WorkStatus::Draft | WorkStatus::Rejected => {
            return Err(Conflict::NotSubmitted(
                "this expense has not been submitted; it must be submitted before it is approved"
                    .into(),
            )
            .into())
        }
        WorkStatus::Invoiced => return Err(locked(WorkStatus::Invoiced)),
    }
    access::may_approve_made_work(
        &caller,
        &current.person_id,
        current.recorded_by.as_deref(),
        current.changed_by.as_deref(),
    )?;
    let made_it = access::made_or_changed(
        &caller,
        current.recorded_by.as_deref(),
        current.changed_by.as_deref(),
    );
    let period = Period::load(&s, &caller.tenant).await?;
    period.check(current.date)?;
    let billed = with_markup(current.amount, current.markup_percent)
        .ok_or_else(|| ApiError::Internal(format!("billed amount of expense {id} overflows")))?;
    let now = s.clock.now();
    let tenant = caller.tenant.clone();
    let approver = caller.person.clone();
    let expense = resource::update(&s, &caller, current, if_match, AuditAction::Approve, |e| {
        e.status = WorkStatus::Approved;
        e.approval = Some(ExpenseApproval {
            approved_by: approver,
            approved_at: now,
            billed_amount: billed,
            approver_made_or_changed: made_it,
        });
        Ok(vec![period.pin(&tenant)])
    })
    .await?;
    let id = approval_change_id(&expense);
    announce(&s, &caller, &expense, &project, billed, false, &id).await?;
    Ok(respond(&caller, expense))
}

#[utoipa::path(post, path = "/v1/expenses/{id}/reject", tag = "approvals", params(("id" = String, Path)),
    request_body = RejectExpense,
    responses((status = 200, body = ExpenseView), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "reject_expense")]
pub async fn reject(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<RejectExpense>,
) -> ApiResult<Response> {
    let mut p = Problems::new();
    p.check("reason", validate::name(&body.reason, MAX_REASON));
    p.finish()?;
    access::require_takes_work_decisions(&caller)?;
    let current = load(&s, &caller, &id).await?;
    require_decides(&s, &caller, &current).await?;
    let project = fetch::<Project>(&s, &keys::project(&caller.tenant, &current.project_id)).await?;
    match current.status {
        WorkStatus::Submitted | WorkStatus::Approved => {}
        WorkStatus::Rejected => {
            // Already rejected: if that undid an approval, announce it again.
            if let Some(undone) = current
                .rejection
                .as_ref()
                .and_then(|r| r.unapproved.as_ref())
            {
                let id = undo_change_id(&current, undone);
                announce(&s, &caller, &current, &project, undone.value, true, &id).await?;
            }
            return Ok(respond(&caller, current));
        }
        WorkStatus::Draft => {
            return Err(Conflict::NothingToDo(
                "nothing to reject: this expense has not been submitted".into(),
            )
            .into())
        }
        WorkStatus::Invoiced => return Err(locked(WorkStatus::Invoiced)),
    }
    let period = Period::load(&s, &caller.tenant).await?;
    period.check(current.date)?;
    let now = s.clock.now();
    let tenant = caller.tenant.clone();
    let by = caller.person.clone();
    let reason = body.reason.trim().to_owned();
    let expense = resource::update(&s, &caller, current, if_match, AuditAction::Reject, |e| {
        // Still the version the approval wrote: approved expenses do not change.
        let approved_as = approval_change_id(e);
        let unapproved = e
            .approval
            .take()
            .map(|a| undone_approval(e, a, approved_as));
        e.status = WorkStatus::Rejected;
        e.rejection = Some(Rejection {
            rejected_by: by,
            rejected_at: now,
            reason,
            job_id: None,
            unapproved,
        });
        Ok(vec![period.pin(&tenant)])
    })
    .await?;
    if let Some(undone) = expense
        .rejection
        .as_ref()
        .and_then(|r| r.unapproved.as_ref())
    {
        let id = undo_change_id(&expense, undone);
        announce(&s, &caller, &expense, &project, undone.value, true, &id).await?;
    }
    Ok(respond(&caller, expense))
}

/// The id the approval of this version of the expense is announced under.
pub fn approval_change_id(expense: &Expense) -> String {
    format!("expense:{}:{}", expense.id, expense.version)
}

/// The id the undoing of `undone` is announced under: derived from the
/// approval it undoes, so it stays the same whatever happens to the expense
/// afterwards. (Rejections kept before this id was recorded fall back to the
/// expense's version.)
pub fn undo_change_id(expense: &Expense, undone: &Approval) -> String {
    match &undone.job_id {
        Some(approved_as) => format!("{approved_as}:undone"),
        None => approval_change_id(expense),
    }
}

/// An expense's undone approval in the shape rejections keep: its billed
/// amount as the value, no minutes, no rates, and (in `job_id`, which names
/// the action that approved it) the change id its approval was announced under.
fn undone_approval(e: &Expense, a: ExpenseApproval, approved_as: String) -> Approval {
    Approval {
        approved_by: a.approved_by,
        approved_at: a.approved_at,
        bill_rate: None,
        rate_source: None,
        currency: e.currency,
        cost_rate: None,
        cost_currency: None,
        billed_minutes: 0,
        value: a.billed_amount,
        job_id: Some(approved_as),
    }
}

/// The burn change (announced as `change_id`) of approving or un-approving the
/// expense: re-billed value as fees when billable, the amount spent as cost.
pub fn burn_change(
    tenant: &str,
    expense: &Expense,
    project: &Project,
    billed: Decimal,
    undo: bool,
    change_id: &str,
) -> Option<BurnChange> {
    if expense.currency != project.currency {
        return None;
    }
    let sign = |d: Decimal| if undo { -d } else { d };
    Some(BurnChange {
        kind: BurnKind::of(undo),
        tenant: tenant.into(),
        change_id: change_id.into(),
        project_id: expense.project_id.clone(),
        minutes: 0,
        billable_minutes: 0,
        fees: sign(if expense.billable {
            billed
        } else {
            Decimal::ZERO
        }),
        cost: sign(expense.amount),
        currency: project.currency,
    })
}

/// Sends the change; a failure is a 5xx, so the client's retry announces it again.
async fn announce(
    s: &Services,
    caller: &Caller,
    expense: &Expense,
    project: &Project,
    billed: Decimal,
    undo: bool,
    change_id: &str,
) -> ApiResult<()> {
    let Some(change) = burn_change(&caller.tenant, expense, project, billed, undo, change_id)
    else {
        tracing::warn!(expense = %expense.id, "expense currency differs from its project's; burn not changed");
        return Ok(());
    };
    s.queue
        .send(APPROVED_QUEUE, &change.to_body())
        .await
        .map_err(|e| ApiError::Internal(format!("announcing the expense change failed: {e}")))
}
