//! The lock date (period close): nothing dated on or before it is created,
//! edited, deleted, submitted, approved or un-approved. Admin and finance close
//! periods; re-opening one (moving the date earlier, or clearing it) changes
//! books already reported on, so only an admin may do it.

use agencyops_platform::access;
use agencyops_platform::extract::{nullable, IfMatch, Json};
use agencyops_platform::period::Period;
use agencyops_platform::resource;
use agencyops_platform::{ApiError, ApiResult, Caller, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::record;
use agencyops_store::records::LockDate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLockDate {
    /// The last closed day, or null to re-open every period. Required, so an
    /// empty body never clears the lock by accident.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, required = true, example = "2026-10-31")]
    pub lock_date: Option<Option<Date>>,
}

async fn current(s: &Services, tenant: &str) -> ApiResult<LockDate> {
    Ok(Period::load(s, tenant).await?.lock)
}

#[utoipa::path(get, path = "/v1/settings/lock-date", tag = "approvals",
    responses((status = 200, body = LockDate), (status = 403)), operation_id = "get_lock_date")]
pub async fn get(State(s): State<Services>, caller: Caller) -> ApiResult<Response> {
    access::require_reads_lock_date(&caller)?;
    let lock = current(&s, &caller.tenant).await?;
    Ok(resource::respond(StatusCode::OK, &lock, None))
}

/// Whether moving the lock from `from` to `to` re-opens closed days.
pub fn reopens(from: Option<Date>, to: Option<Date>) -> bool {
    match (from, to) {
        (Some(_), None) => true,
        (Some(f), Some(t)) => t < f,
        (None, _) => false,
    }
}

#[utoipa::path(put, path = "/v1/settings/lock-date", tag = "approvals", request_body = SetLockDate,
    responses((status = 200, body = LockDate), (status = 400), (status = 403), (status = 409), (status = 412)), operation_id = "set_lock_date")]
pub async fn set(
    State(s): State<Services>,
    caller: Caller,
    if_match: IfMatch,
    Json(body): Json<SetLockDate>,
) -> ApiResult<Response> {
    let wanted = body.lock_date.ok_or_else(|| {
        ApiError::field(
            "lock_date",
            "is required: a date, or null to clear the lock",
        )
    })?;
    access::require_moves_lock_date(&caller)?;
    let before = current(&s, &caller.tenant).await?;
    if let IfMatch(Some(v)) = if_match {
        if v != before.version {
            return Err(ApiError::PreconditionFailed);
        }
    }
    if before.lock_date == wanted {
        return Ok(resource::respond(StatusCode::OK, &before, None));
    }
    let reopening = reopens(before.lock_date, wanted);
    if reopening {
        access::require_reopens_periods(&caller)?;
    }
    let mut after = before.clone();
    after.lock_date = wanted;
    after.set_by = Some(caller.person.clone());
    let expected = record::bump(&mut after, s.clock.now());
    let action = if reopening {
        AuditAction::Reopen
    } else {
        AuditAction::Lock
    };
    let was = (expected > 0).then_some(&before);
    let mut tx = Tx::new(&caller.tenant).if_match(if_match.0.is_some());
    tx.save(
        &after,
        expected,
        Fails::stale("the lock date changed while it was being set; reload and retry"),
    )?
    .audit(&s, &caller, action, was, Some(&after), &after.id)?;
    tx.commit(&s).await?;
    Ok(resource::respond(StatusCode::OK, &after, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn moving_earlier_or_clearing_reopens_moving_later_does_not() {
        let oct = Some(date(2026, 10, 31));
        let sep = Some(date(2026, 9, 30));
        assert!(reopens(oct, sep));
        assert!(reopens(oct, None));
        assert!(!reopens(sep, oct));
        assert!(!reopens(None, oct));
        assert!(!reopens(None, None));
    }

    #[test]
    fn the_date_is_required_and_null_clears_it() {
        let parse = |s: &str| serde_json::from_str::<SetLockDate>(s).map(|b| b.lock_date);
        assert_eq!(parse("{}").unwrap(), None);
        assert_eq!(parse(r#"{"lock_date": null}"#).unwrap(), Some(None));
        assert_eq!(
            parse(r#"{"lock_date": "2026-10-31"}"#).unwrap(),
            Some(Some(date(2026, 10, 31)))
        );
        assert!(parse(r#"{"lock_date": "31/10/2026"}"#).is_err());
        assert!(parse(r#"{"lock": "2026-10-31"}"#).is_err());
    }
}
