//! Operations on intake requests other than accepting one (see `accept`).

use agencyops_domain::{validate, Currency, Id};
use agencyops_platform::access::{self, IntakeFiler, IntakeReach};
use agencyops_platform::error::Problems;
use agencyops_platform::extract::IfMatch;
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::audit::AuditAction;
use agencyops_store::records::{IntakeRequest, IntakeStatus};
use agencyops_store::{keys, Index, Query as StoreQuery, SkCondition, Write};
use jiff::civil::Date;
use rust_decimal::Decimal;

use super::{IntakeFilter, IntakeRequestPatch, NewIntakeRequest};
use crate::access::require_manages_work;
use crate::projects;
use crate::views::{self, IntakeRequestView};
use crate::work_items::check_amount;

/// A request's own fields, whichever of them a create or a patch sets.
fn check_fields(
    p: &mut Problems,
    title: Option<&str>,
    brief: Option<&str>,
    start: Option<Date>,
    end: Option<Date>,
    budget: Option<Decimal>,
    currency: Currency,
) {
    if let Some(t) = title {
        p.check("title", validate::name(t, 200));
    }
    if brief.is_some_and(|b| b.chars().count() > 10_000) {
        p.add("brief", "must be at most 10000 characters");
    }
    if let (Some(a), Some(b)) = (start, end) {
        if b < a {
            p.add("desired_end", "must not be before desired_start");
        }
    }
    check_amount(p, "budget", budget, currency);
}

/// Only an open request is edited or decided.
pub fn must_be_open(r: &IntakeRequest) -> ApiResult<()> {
    match r.status {
        IntakeStatus::Open => Ok(()),
        IntakeStatus::Accepted => {
            Err(Conflict::AlreadyDecided("this request was already accepted".into()).into())
        }
        IntakeStatus::Declined => {
            Err(Conflict::AlreadyDecided("this request was declined".into()).into())
        }
    }
}

pub async fn create(
    s: &Services,
    caller: &Caller,
    body: NewIntakeRequest,
) -> ApiResult<IntakeRequestView> {
    let client_id = match access::intake_filer(caller)? {
        IntakeFiler::ForAnyClient => body
            .client_id
            .clone()
            .ok_or_else(|| ApiError::field("client_id", "is required"))?,
        IntakeFiler::ForOwnClient(own) => {
            if body.client_id.as_deref().is_some_and(|c| c != own) {
                return Err(ApiError::forbidden(
                    "a client user can only ask for work for their own client",
                ));
            }
            own
        }
    };
    let client_id = Id::parse(&client_id).map_err(|why| ApiError::invalid("client_id", why))?;
    let client = projects::client_for_project(s, caller, &client_id).await?;
    let mut p = Problems::new();
    check_fields(
        &mut p,
        Some(&body.title),
        Some(&body.brief),
        body.desired_start,
        body.desired_end,
        body.budget,
        client.currency,
    );
    p.finish()?;
    let now = s.clock.now();
    let request = IntakeRequest {
        id: resource::new_id(),
        client_id: client_id.to_string(),
        title: body.title.trim().to_owned(),
        brief: body.brief,
        desired_start: body.desired_start,
        desired_end: body.desired_end,
        currency: client.currency,
        budget: body.budget,
        status: IntakeStatus::Open,
        decline_reason: None,
        project_id: None,
        requested_by: caller.person.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let guard = Write::check_exists(keys::client(&caller.tenant, &client_id));
    resource::insert(s, caller, &request, vec![guard]).await?;
    Ok(IntakeRequestView::of(caller, request))
}

pub async fn list(
    s: &Services,
    caller: &Caller,
    f: IntakeFilter,
) -> ApiResult<ListPage<IntakeRequestView>> {
    let keep = |r: &IntakeRequest| f.status.is_none_or(|st| r.status == st);
    let q = match access::intake_reach(caller)? {
        IntakeReach::Everything => match &f.client_id {
            Some(c) => {
                StoreQuery::new(Index::Gsi2, keys::client_intake_requests(&caller.tenant, c))
            }
            None => StoreQuery::new(Index::Table, keys::intake_requests(&caller.tenant))
                .sk(SkCondition::BeginsWith(keys::intake_requests_prefix())),
        },
        IntakeReach::OwnClient(own) => StoreQuery::new(
            Index::Gsi2,
            keys::client_intake_requests(&caller.tenant, &own),
        ),
    };
    // Newest first: ids are time-ordered.
    let q = q.backward();
    let page = resource::list(s, caller, q, f.limit, f.cursor.as_deref(), &f.status, keep).await?;
    Ok(views::page(page, |r| IntakeRequestView::of(caller, r)))
}

pub async fn get(s: &Services, caller: &Caller, id: &str) -> ApiResult<IntakeRequestView> {
    let r = access::visible_request(s, caller, id).await?;
    Ok(IntakeRequestView::of(caller, r))
}

pub async fn patch(
    s: &Services,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    body: IntakeRequestPatch,
) -> ApiResult<IntakeRequestView> {
    let current = access::visible_request(s, caller, id).await?;
    access::require_changes_intake_request(caller)?;
    must_be_open(&current)?;
    let mut p = Problems::new();
    // The request's budget is in the currency it was made in.
    check_fields(
        &mut p,
        body.title.as_deref(),
        body.brief.as_deref(),
        body.desired_start.or(current.desired_start),
        body.desired_end.or(current.desired_end),
        body.budget,
        current.currency,
    );
    p.finish()?;
    let r = resource::update(s, caller, current, if_match, AuditAction::Update, |r| {
        if let Some(v) = body.title {
            r.title = v.trim().to_owned();
        }
        if let Some(v) = body.brief {
            r.brief = v;
        }
        if body.desired_start.is_some() {
            r.desired_start = body.desired_start;
        }
        if body.desired_end.is_some() {
            r.desired_end = body.desired_end;
        }
        if body.budget.is_some() {
            r.budget = body.budget;
        }
        // Only an open request is edited: a decision made meanwhile wins.
        Ok(vec![])
    })
    .await?;
    Ok(IntakeRequestView::of(caller, r))
}

pub async fn decline(
    s: &Services,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    reason: String,
) -> ApiResult<IntakeRequestView> {
    let current = access::visible_request(s, caller, id).await?;
    require_manages_work(caller)?;
    must_be_open(&current)?;
    let mut p = Problems::new();
    p.check("reason", validate::name(&reason, 2000));
    p.finish()?;
    let r = resource::update(s, caller, current, if_match, AuditAction::Decline, |r| {
        r.status = IntakeStatus::Declined;
        r.decline_reason = Some(reason.trim().to_owned());
        Ok(vec![])
    })
    .await?;
    Ok(IntakeRequestView::of(caller, r))
}
