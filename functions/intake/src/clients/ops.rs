//! Operations on clients and their contacts, each returning what the caller
//! may see of them.

use agencyops_platform::access::{self, WorkReach};
use agencyops_platform::error::Problems;
use agencyops_platform::extract::IfMatch;
use agencyops_platform::resource::{self, fetch, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::load_many;
use agencyops_store::records::{Client, Contact};
use agencyops_store::{keys, Condition, Index, Query as StoreQuery, SkCondition, Write};

use super::rules::{check_contact, Fields};
use super::{ClientFilter, ClientPatch, ContactFilter, ContactPatch, NewClient, NewContact};
use crate::access::{my_client_ids, require_manages_work, visible_client};
use crate::views::{self, ClientView, ContactView};

pub async fn create(s: &Services, caller: &Caller, body: NewClient) -> ApiResult<ClientView> {
    require_manages_work(caller)?;
    Fields {
        name: Some(&body.name),
        terms: body.payment_terms_days,
        taxes: Some(&body.tax_rates),
        email: body.billing_email.as_deref(),
        rate: body.default_rate.as_ref(),
        rounding: body.rounding.as_ref(),
        prefs: Some(&body.invoice_preferences),
    }
    .check()?;
    let now = s.clock.now();
    let client = Client {
        id: resource::new_id(),
        name: body.name.trim().to_owned(),
        currency: body.currency,
        payment_terms_days: body.payment_terms_days.unwrap_or(30),
        tax_rates: body.tax_rates,
        billing_email: body.billing_email,
        default_rate: body.default_rate,
        rounding: body.rounding,
        invoice_preferences: body.invoice_preferences,
        archived: false,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    resource::insert(s, caller, &client, vec![]).await?;
    Ok(ClientView::of(caller, client))
}

pub async fn list(
    s: &Services,
    caller: &Caller,
    f: ClientFilter,
) -> ApiResult<ListPage<ClientView>> {
    let needle = f.name.as_deref().map(str::to_lowercase);
    let keep = |c: &Client| {
        needle
            .as_deref()
            .is_none_or(|n| c.name.to_lowercase().contains(n))
            && f.archived.is_none_or(|a| c.archived == a)
    };
    let ids: Vec<String> = match access::work_reach(caller)? {
        WorkReach::Everything => {
            let q = StoreQuery::new(Index::Table, keys::clients(&caller.tenant))
                .sk(SkCondition::BeginsWith(keys::clients_prefix()));
            let page = resource::list(
                s,
                caller,
                q,
                f.limit,
                f.cursor.as_deref(),
                &(&needle, f.archived),
                keep,
            )
            .await?;
            return Ok(views::page(page, |c| ClientView::of(caller, c)));
        }
        WorkReach::OwnClient(own) => vec![own],
        WorkReach::OwnProjects => my_client_ids(s, caller).await?.into_iter().collect(),
    };
    // Members and client users reach a handful of clients (through their
    // projects, or their own): all of them in one page, no cursor. Their
    // `limit` is still checked like every list's, so the contract is one.
    resource::page_limit(f.limit)?;
    let keys: Vec<_> = ids
        .iter()
        .map(|id| keys::client(&caller.tenant, id))
        .collect();
    let mut items: Vec<Client> = load_many::<Client>(&*s.table, &keys)
        .await?
        .into_iter()
        .filter(keep)
        .collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(ListPage {
        items: items
            .into_iter()
            .map(|c| ClientView::of(caller, c))
            .collect(),
        next_cursor: None,
    })
}

pub async fn get(s: &Services, caller: &Caller, id: &str) -> ApiResult<ClientView> {
    let client = visible_client(s, caller, id).await?;
    Ok(ClientView::of(caller, client))
}

/// The client after `body` (pure; the update itself guards the currency).
fn patched(mut c: Client, body: ClientPatch) -> Client {
    if let Some(v) = body.name {
        c.name = v.trim().to_owned();
    }
    if let Some(v) = body.currency {
        c.currency = v;
    }
    if let Some(v) = body.payment_terms_days {
        c.payment_terms_days = v;
    }
    if let Some(v) = body.tax_rates {
        c.tax_rates = v;
    }
    if body.billing_email.is_some() {
        c.billing_email = body.billing_email;
    }
    if body.default_rate.is_some() {
        c.default_rate = body.default_rate;
    }
    if body.rounding.is_some() {
        c.rounding = body.rounding;
    }
    if let Some(v) = body.invoice_preferences {
        c.invoice_preferences = v;
    }
    if let Some(v) = body.archived {
        c.archived = v;
    }
    c
}

pub async fn patch(
    s: &Services,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    body: ClientPatch,
) -> ApiResult<ClientView> {
    let current = visible_client(s, caller, id).await?;
    require_manages_work(caller)?;
    Fields {
        name: body.name.as_deref(),
        terms: body.payment_terms_days,
        taxes: body.tax_rates.as_deref(),
        email: body.billing_email.as_deref(),
        rate: body.default_rate.as_ref(),
        rounding: body.rounding.as_ref(),
        prefs: body.invoice_preferences.as_ref(),
    }
    .check()?;
    let currency_changes = body.currency.is_some_and(|c| c != current.currency);
    let frozen = || ApiError::from(Conflict::HasProjects);
    let project_count = keys::client_project_count(&caller.tenant, id);
    if currency_changes && s.table.get(&project_count).await?.is_some() {
        return Err(frozen());
    }
    let next = patched(current.clone(), body);
    let guard = project_count.clone();
    let updated = resource::update(s, caller, current, if_match, AuditAction::Update, |c| {
        *c = next;
        // A project created meanwhile makes this check fail: the currency stays put.
        Ok(if currency_changes {
            vec![Write::Check {
                key: guard,
                condition: Condition::NotExists,
            }]
        } else {
            vec![]
        })
    })
    .await;
    let client = match updated {
        // A lost race is either a project created meanwhile (the currency is now
        // frozen) or another edit of the client: say which, not always the first.
        Err(ApiError::Conflict(why)) if currency_changes => {
            return Err(if s.table.get(&project_count).await?.is_some() {
                frozen()
            } else {
                why.into()
            });
        }
        other => other?,
    };
    Ok(ClientView::of(caller, client))
}

pub async fn create_contact(
    s: &Services,
    caller: &Caller,
    client_id: &str,
    body: NewContact,
) -> ApiResult<ContactView> {
    visible_client(s, caller, client_id).await?;
    require_manages_work(caller)?;
    let mut p = Problems::new();
    check_contact(
        &mut p,
        Some(&body.name),
        body.email.as_deref(),
        body.phone.as_deref(),
        body.title.as_deref(),
    );
    p.finish()?;
    let now = s.clock.now();
    let contact = Contact {
        id: resource::new_id(),
        client_id: client_id.to_owned(),
        name: body.name.trim().to_owned(),
        email: body.email,
        phone: body.phone,
        title: body.title,
        billing: body.billing,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    // The client must still exist when the contact lands.
    let guard = Write::check_exists(keys::client(&caller.tenant, client_id));
    resource::insert(s, caller, &contact, vec![guard]).await?;
    Ok(ContactView::of(contact))
}

pub async fn list_contacts(
    s: &Services,
    caller: &Caller,
    client_id: &str,
    f: ContactFilter,
) -> ApiResult<ListPage<ContactView>> {
    visible_client(s, caller, client_id).await?;
    let q = StoreQuery::new(
        Index::Table,
        keys::client_partition(&caller.tenant, client_id),
    )
    .sk(SkCondition::BeginsWith(keys::contacts_prefix()));
    let page = resource::list(
        s,
        caller,
        q,
        f.limit,
        f.cursor.as_deref(),
        &f.billing,
        |c: &Contact| f.billing.is_none_or(|b| c.billing == b),
    )
    .await?;
    Ok(views::page(page, ContactView::of))
}

pub async fn get_contact(
    s: &Services,
    caller: &Caller,
    client_id: &str,
    contact_id: &str,
) -> ApiResult<ContactView> {
    visible_client(s, caller, client_id).await?;
    let contact =
        fetch::<Contact>(s, &keys::contact(&caller.tenant, client_id, contact_id)).await?;
    Ok(ContactView::of(contact))
}

pub async fn patch_contact(
    s: &Services,
    caller: &Caller,
    (client_id, contact_id): (&str, &str),
    if_match: IfMatch,
    body: ContactPatch,
) -> ApiResult<ContactView> {
    visible_client(s, caller, client_id).await?;
    let current =
        fetch::<Contact>(s, &keys::contact(&caller.tenant, client_id, contact_id)).await?;
    require_manages_work(caller)?;
    let mut p = Problems::new();
    check_contact(
        &mut p,
        body.name.as_deref(),
        body.email.as_deref(),
        body.phone.as_deref(),
        body.title.as_deref(),
    );
    p.finish()?;
    let contact = resource::update(s, caller, current, if_match, AuditAction::Update, |c| {
        if let Some(v) = body.name {
            c.name = v.trim().to_owned();
        }
        if body.email.is_some() {
            c.email = body.email;
        }
        if body.phone.is_some() {
            c.phone = body.phone;
        }
        if body.title.is_some() {
            c.title = body.title;
        }
        if let Some(v) = body.billing {
            c.billing = v;
        }
        Ok(vec![])
    })
    .await?;
    Ok(ContactView::of(contact))
}
