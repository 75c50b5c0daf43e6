//! People's rules, without storage: who may hand out which role, and which
//! fields of a new person or a change hold.

use agencyops_domain::{validate, Money, Role};
use agencyops_platform::error::Problems;
use agencyops_platform::{ApiError, ApiResult, Caller};
use rust_decimal::Decimal;

use super::{NewPerson, PersonPatch};

pub use agencyops_platform::access::may_grant_role as may_grant;

fn check_common(
    p: &mut Problems,
    name: Option<&str>,
    email: Option<&str>,
    tz: Option<&str>,
    capacity: Option<Decimal>,
) {
    if let Some(n) = name {
        p.check("name", validate::name(n, 200));
    }
    if let Some(e) = email {
        p.check("email", validate::email(e));
    }
    if let Some(tz) = tz {
        p.check("time_zone", validate::time_zone(tz));
    }
    if let Some(c) = capacity {
        if c < Decimal::ZERO || c > Decimal::from(168) {
            p.add("weekly_capacity_hours", "must be 0 to 168");
        }
    }
}

fn check_rate(p: &mut Problems, field: &str, rate: Option<&Money>) {
    if let Some(m) = rate {
        p.check(field, validate::rate(&m.amount));
    }
}

fn check_rates_and_job(
    p: &mut Problems,
    cost: Option<&Money>,
    bill: Option<&Money>,
    job_role: Option<&str>,
) {
    check_rate(p, "cost_rate.amount", cost);
    check_rate(p, "default_bill_rate.amount", bill);
    if let Some(j) = job_role {
        p.check("job_role", validate::name(j, 100));
    }
}

/// The fields of a new person, and that only client users belong to a client.
pub fn new_person_problems(body: &NewPerson) -> ApiResult<()> {
    let mut p = Problems::new();
    check_common(
        &mut p,
        Some(&body.name),
        Some(&body.email),
        Some(&body.time_zone),
        body.weekly_capacity_hours,
    );
    check_rates_and_job(
        &mut p,
        body.cost_rate.as_ref(),
        body.default_bill_rate.as_ref(),
        body.job_role.as_deref(),
    );
    if let Some(c) = &body.client_id {
        p.check("client_id", validate::id(c));
    }
    match (body.role, &body.client_id) {
        (Role::Client, None) => p.add("client_id", "is required for the client role"),
        (Role::Client, Some(_)) | (_, None) => {}
        (_, Some(_)) => p.add(
            "client_id",
            "only people with the client role belong to a client",
        ),
    }
    p.finish()
}

/// Whether `caller` may change someone with role `current` as `body` says,
/// and whether the fields it sets hold.
pub fn patch_problems(caller: &Caller, current: Role, body: &PersonPatch) -> ApiResult<()> {
    may_grant(caller, current)?;
    if let Some(role) = body.role {
        may_grant(caller, role)?;
        if (role == Role::Client) != (current == Role::Client) {
            return Err(ApiError::field(
                "role",
                "a client user cannot become staff or the reverse; create a new person",
            ));
        }
    }
    let mut p = Problems::new();
    check_common(
        &mut p,
        body.name.as_deref(),
        body.email.as_deref(),
        body.time_zone.as_deref(),
        body.weekly_capacity_hours,
    );
    check_rates_and_job(
        &mut p,
        body.cost_rate.as_ref(),
        body.default_bill_rate.as_ref(),
        body.job_role.as_deref(),
    );
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role) -> Caller {
        Caller {
            tenant: "acme".into(),
            person: "me".into(),
            role,
            client: None,
        }
    }

    #[test]
    fn managers_grant_neither_admin_nor_finance_and_nobody_turns_a_client_into_staff() {
        let manager = caller(Role::Manager);
        assert!(may_grant(&manager, Role::Member).is_ok());
        assert!(may_grant(&manager, Role::Finance).is_err());
        assert!(may_grant(&caller(Role::Finance), Role::Member).is_err());
        let to_member = PersonPatch {
            role: Some(Role::Member),
            ..Default::default()
        };
        match patch_problems(&caller(Role::Admin), Role::Client, &to_member) {
            Err(ApiError::Validation(errs)) => assert_eq!(errs[0].field, "role"),
            other => panic!("{other:?}"),
        }
        let bad = PersonPatch {
            weekly_capacity_hours: Some(Decimal::from(169)),
            job_role: Some(" ".into()),
            ..Default::default()
        };
        match patch_problems(&manager, Role::Member, &bad) {
            Err(ApiError::Validation(errs)) => {
                let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["weekly_capacity_hours", "job_role"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
