//! Operations on people: create, list, read and change someone, each
//! returning what the caller may see of them.

use agencyops_platform::access::{self, PeopleReach};
use agencyops_platform::extract::IfMatch;
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::audit::AuditAction;
use agencyops_store::record as rec;
use agencyops_store::records::{Client, Person};
use agencyops_store::{keys, Condition, Index, Query as StoreQuery, SkCondition, Write};
use rust_decimal::Decimal;

use super::rules::{may_grant, new_person_problems, patch_problems};
use super::{NewPerson, PeopleFilter, PersonPatch};
use crate::views::{self, PersonView};

fn email_lock(tenant: &str, email: &str) -> agencyops_store::Item {
    let key = keys::email(tenant, email.trim());
    let mut item = agencyops_store::Item::new();
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    item
}

/// A clear 409 for the common case; the conditional write still guards the race.
async fn ensure_email_free(s: &Services, tenant: &str, email: &str) -> ApiResult<()> {
    if s.table.get(&keys::email(tenant, email)).await?.is_some() {
        return Err(Conflict::EmailTaken.into());
    }
    Ok(())
}

pub async fn create(s: &Services, caller: &Caller, body: NewPerson) -> ApiResult<PersonView> {
    may_grant(caller, body.role)?;
    new_person_problems(&body)?;
    let mut extra = vec![Write::put_if(
        email_lock(&caller.tenant, &body.email),
        Condition::NotExists,
    )];
    if let Some(client_id) = &body.client_id {
        // Only a missing client is the caller's mistake; a failed read stays a 5xx.
        rec::load::<Client>(&*s.table, &keys::client(&caller.tenant, client_id))
            .await?
            .ok_or_else(|| ApiError::field("client_id", "no such client"))?;
        extra.push(Write::check_exists(keys::client(&caller.tenant, client_id)));
    }
    let now = s.clock.now();
    let person = Person {
        id: resource::new_id(),
        name: body.name.trim().to_owned(),
        email: body.email.trim().to_owned(),
        role: body.role,
        job_role: body
            .job_role
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty()),
        cost_rate: body.cost_rate,
        default_bill_rate: body.default_bill_rate,
        weekly_capacity_hours: body.weekly_capacity_hours.unwrap_or(Decimal::from(40)),
        time_zone: body.time_zone,
        client_id: body.client_id,
        active: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    ensure_email_free(s, &caller.tenant, &person.email).await?;
    resource::insert(s, caller, &person, extra).await?;
    Ok(PersonView::of(caller, person))
}

pub async fn list(
    s: &Services,
    caller: &Caller,
    f: PeopleFilter,
) -> ApiResult<ListPage<PersonView>> {
    if access::people_reach(caller)? == PeopleReach::OnlySelf {
        // Members see themselves; the directory with rates is for managers.
        // Nobody stored (a token without a person record) is an empty list;
        // a failed read is an error, not "nobody". Their `limit` is
        // still checked like every list's, so the contract is one.
        resource::page_limit(f.limit)?;
        let me =
            rec::load::<Person>(&*s.table, &keys::person(&caller.tenant, &caller.person)).await?;
        return Ok(ListPage {
            items: me.into_iter().map(|p| PersonView::of(caller, p)).collect(),
            next_cursor: None,
        });
    }
    let q = StoreQuery::new(Index::Table, keys::people(&caller.tenant))
        .sk(SkCondition::BeginsWith(keys::people_prefix()));
    let filters = (f.role, f.active);
    let page =
        resource::list::<Person>(s, caller, q, f.limit, f.cursor.as_deref(), &filters, |p| {
            f.role.is_none_or(|r| p.role == r) && f.active.is_none_or(|a| p.active == a)
        })
        .await?;
    Ok(views::page(page, |p| PersonView::of(caller, p)))
}

pub async fn get(s: &Services, caller: &Caller, id: &str) -> ApiResult<PersonView> {
    let person = access::visible_person(s, caller, id).await?;
    Ok(PersonView::of(caller, person))
}

pub async fn patch(
    s: &Services,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    body: PersonPatch,
) -> ApiResult<PersonView> {
    let current = access::visible_person(s, caller, id).await?;
    patch_problems(caller, current.role, &body)?;
    if let Some(email) = body.email.as_deref().map(str::trim) {
        if email.to_lowercase() != current.email.to_lowercase() {
            ensure_email_free(s, &caller.tenant, email).await?;
        }
    }
    let tenant = caller.tenant.clone();
    let person = resource::update(
        s,
        caller,
        current,
        if_match,
        AuditAction::Update,
        |person| {
            // A new address moves the email lock in the same transaction.
            let mut extra = Vec::new();
            if let Some(email) = body.email.map(|e| e.trim().to_owned()) {
                if email.to_lowercase() != person.email.to_lowercase() {
                    extra.push(Write::Delete {
                        key: keys::email(&tenant, &person.email),
                        condition: None,
                    });
                    extra.push(Write::put_if(
                        email_lock(&tenant, &email),
                        Condition::NotExists,
                    ));
                }
                person.email = email;
            }
            if let Some(v) = body.name {
                person.name = v.trim().to_owned();
            }
            if let Some(v) = body.role {
                person.role = v;
            }
            if let Some(v) = body.job_role {
                person.job_role = Some(v.trim().to_owned()).filter(|r| !r.is_empty());
            }
            if body.cost_rate.is_some() {
                person.cost_rate = body.cost_rate;
            }
            if body.default_bill_rate.is_some() {
                person.default_bill_rate = body.default_bill_rate;
            }
            if let Some(v) = body.weekly_capacity_hours {
                person.weekly_capacity_hours = v;
            }
            if let Some(v) = body.time_zone {
                person.time_zone = v;
            }
            if let Some(v) = body.active {
                person.active = v;
            }
            Ok(extra)
        },
    )
    .await?;
    Ok(PersonView::of(caller, person))
}
