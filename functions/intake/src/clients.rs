//! `/v1/clients` and their contacts: who the agency bills, in which currency, on what terms.

use agencyops_domain::rounding::TimeRounding;
use agencyops_domain::{validate, Currency, Role};
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{IfMatch, Json, Path, Query};
use agencyops_platform::resource::{self, fetch, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::record::load_many;
use agencyops_store::records::{Client, Contact, InvoicePreferences, TaxRate};
use agencyops_store::{keys, Condition, Index, Query as StoreQuery, SkCondition, Write};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{my_client_ids, require_manages_work, visible_client};

/// Invoices carry at most this many tax rates (Invoice Ninja's three).
const MAX_TAX_RATES: usize = 3;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    #[schema(example = "EUR")]
    pub currency: Currency,
    /// Days from issue to due date; defaults to 30.
    #[serde(default)]
    #[schema(maximum = 365)]
    pub payment_terms_days: Option<u32>,
    #[serde(default)]
    #[schema(max_items = 3)]
    pub tax_rates: Vec<TaxRate>,
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub billing_email: Option<String>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(1000000(\.0{1,4})?|[0-9]{1,6}(\.[0-9]{1,4})?)$")]
    pub default_rate: Option<Decimal>,
    #[serde(default)]
    pub rounding: Option<TimeRounding>,
    #[serde(default)]
    pub invoice_preferences: InvoicePreferences,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    pub currency: Option<Currency>,
    #[schema(maximum = 365)]
    pub payment_terms_days: Option<u32>,
    #[schema(max_items = 3)]
    pub tax_rates: Option<Vec<TaxRate>>,
    #[schema(format = Email, max_length = 254)]
    pub billing_email: Option<String>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(1000000(\.0{1,4})?|[0-9]{1,6}(\.[0-9]{1,4})?)$")]
    pub default_rate: Option<Decimal>,
    pub rounding: Option<TimeRounding>,
    pub invoice_preferences: Option<InvoicePreferences>,
    pub archived: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClientFilter {
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    pub archived: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The client fields a create or a patch sets, for one set of checks.
struct Fields<'a> {
    name: Option<&'a str>,
    terms: Option<u32>,
    taxes: Option<&'a [TaxRate]>,
    email: Option<&'a str>,
    rate: Option<&'a Decimal>,
    rounding: Option<&'a TimeRounding>,
    prefs: Option<&'a InvoicePreferences>,
}

impl Fields<'_> {
    fn check(&self) -> ApiResult<()> {
        let mut p = Problems::new();
        if let Some(n) = self.name {
            p.check("name", validate::name(n, 200));
        }
        if self.terms.is_some_and(|t| t > 365) {
            p.add("payment_terms_days", "must be 0 to 365");
        }
        if let Some(taxes) = self.taxes {
            if taxes.len() > MAX_TAX_RATES {
                p.add("tax_rates", format!("at most {MAX_TAX_RATES} tax rates"));
            }
            for (i, t) in taxes.iter().enumerate() {
                p.check(format!("tax_rates[{i}].name"), validate::name(&t.name, 50));
                if t.percent < Decimal::ZERO
                    || t.percent > Decimal::from(100)
                    || t.percent.normalize().scale() > 3
                {
                    p.add(
                        format!("tax_rates[{i}].percent"),
                        "must be 0 to 100 with at most 3 decimals",
                    );
                }
            }
        }
        if let Some(e) = self.email {
            p.check("billing_email", validate::email(e));
        }
        if let Some(r) = self.rate {
            p.check("default_rate", validate::rate(r));
        }
        if let Some(r) = self.rounding {
            p.check("rounding.increment_minutes", r.validate());
        }
        if let Some(po) = self.prefs.and_then(|p| p.po_number.as_deref()) {
            p.check("invoice_preferences.po_number", validate::name(po, 64));
        }
        if self
            .prefs
            .and_then(|p| p.notes.as_deref())
            .is_some_and(|n| n.chars().count() > 2000)
        {
            p.add(
                "invoice_preferences.notes",
                "must be at most 2000 characters",
            );
        }
        p.finish()
    }
}

#[utoipa::path(post, path = "/v1/clients", tag = "clients", request_body = NewClient,
    responses((status = 201, body = Client), (status = 400, body = agencyops_platform::error::Problem), (status = 403)), operation_id = "create_client")]
pub async fn create(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<NewClient>,
) -> ApiResult<Response> {
    require_manages_work(&caller)?;
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
    resource::insert(&s, &caller, &client, vec![]).await?;
    Ok(resource::respond(
        StatusCode::CREATED,
        &client,
        Some(format!("/v1/clients/{}", client.id)),
    ))
}

#[utoipa::path(get, path = "/v1/clients", tag = "clients", params(ClientFilter),
    responses((status = 200, body = ListPage<Client>)), operation_id = "list_clients")]
pub async fn list(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<ClientFilter>,
) -> ApiResult<axum::Json<ListPage<Client>>> {
    let needle = f.name.as_deref().map(str::to_lowercase);
    let keep = |c: &Client| {
        needle
            .as_deref()
            .is_none_or(|n| c.name.to_lowercase().contains(n))
            && f.archived.is_none_or(|a| c.archived == a)
    };
    let ids: Vec<String> = match caller.role {
        r if r.sees_everything() => {
            let q = StoreQuery::new(Index::Table, keys::clients(&caller.tenant))
                .sk(SkCondition::BeginsWith("CLIENT#".into()));
            return Ok(axum::Json(
                resource::list(&s, &caller, q, f.limit, f.cursor.as_deref(), keep).await?,
            ));
        }
        Role::Client => caller.client.iter().cloned().collect(),
        _ => my_client_ids(&s, &caller).await?.into_iter().collect(),
    };
    // Members and client users reach a handful of clients (through their
    // projects, or their own): all of them in one page, no cursor.
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
    Ok(axum::Json(ListPage {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/v1/clients/{id}", tag = "clients", params(("id" = String, Path)),
    responses((status = 200, body = Client), (status = 404)), operation_id = "get_client")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let client = visible_client(&s, &caller, &id).await?;
    Ok(resource::respond(StatusCode::OK, &client, None))
}

#[utoipa::path(patch, path = "/v1/clients/{id}", tag = "clients", params(("id" = String, Path)), request_body = ClientPatch,
    responses((status = 200, body = Client), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "patch_client")]
pub async fn patch(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<ClientPatch>,
) -> ApiResult<Response> {
    let current = visible_client(&s, &caller, &id).await?;
    require_manages_work(&caller)?;
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
    let frozen = || {
        ApiError::Conflict(
            "the client's currency cannot change once it has projects: their rates and budgets are in it".into(),
        )
    };
    let project_count = keys::client_project_count(&caller.tenant, &id);
    if currency_changes && s.table.get(&project_count).await?.is_some() {
        return Err(frozen());
    }
    let client = resource::update(&s, &caller, current, if_match, "update", |c| {
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
        // A project created meanwhile makes this check fail: the currency stays put.
        Ok(if currency_changes {
            vec![Write::Check {
                key: project_count,
                condition: Condition::NotExists,
            }]
        } else {
            vec![]
        })
    })
    .await
    .map_err(|e| match e {
        ApiError::Conflict(_) if currency_changes => frozen(),
        other => other,
    })?;
    Ok(resource::respond(StatusCode::OK, &client, None))
}

// ---- contacts ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(pattern = r"^[0-9 +().-]{0,40}$")]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub title: Option<String>,
    /// Receives invoices and reminders.
    #[serde(default)]
    pub billing: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[schema(pattern = r"^[0-9 +().-]{0,40}$")]
    pub phone: Option<String>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub title: Option<String>,
    pub billing: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn check_contact(
    p: &mut Problems,
    name: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
    title: Option<&str>,
) {
    if let Some(n) = name {
        p.check("name", validate::name(n, 200));
    }
    if let Some(e) = email {
        p.check("email", validate::email(e));
    }
    if let Some(ph) = phone {
        if ph.len() > 40
            || !ph
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            p.add(
                "phone",
                "must be digits, spaces and + - ( ) . only, at most 40",
            );
        }
    }
    if let Some(t) = title {
        p.check("title", validate::name(t, 100));
    }
}

#[utoipa::path(post, path = "/v1/clients/{id}/contacts", tag = "clients", params(("id" = String, Path)), request_body = NewContact,
    responses((status = 201, body = Contact), (status = 400), (status = 403), (status = 404)), operation_id = "create_contact")]
pub async fn create_contact(
    State(s): State<Services>,
    caller: Caller,
    Path(client_id): Path<String>,
    Json(body): Json<NewContact>,
) -> ApiResult<Response> {
    visible_client(&s, &caller, &client_id).await?;
    require_manages_work(&caller)?;
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
        client_id: client_id.clone(),
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
    let guard = Write::check_exists(keys::client(&caller.tenant, &client_id));
    resource::insert(&s, &caller, &contact, vec![guard]).await?;
    Ok(resource::respond(
        StatusCode::CREATED,
        &contact,
        Some(format!("/v1/clients/{client_id}/contacts/{}", contact.id)),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactFilter {
    /// Only contacts who receive invoices (true) or only those who don't (false).
    pub billing: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/clients/{id}/contacts", tag = "clients", params(("id" = String, Path), ContactFilter),
    responses((status = 200, body = ListPage<Contact>), (status = 404)), operation_id = "list_contacts")]
pub async fn list_contacts(
    State(s): State<Services>,
    caller: Caller,
    Path(client_id): Path<String>,
    Query(f): Query<ContactFilter>,
) -> ApiResult<axum::Json<ListPage<Contact>>> {
    visible_client(&s, &caller, &client_id).await?;
    let q = StoreQuery::new(
        Index::Table,
        keys::client_partition(&caller.tenant, &client_id),
    )
    .sk(SkCondition::BeginsWith("CONTACT#".into()));
    Ok(axum::Json(
        resource::list(
            &s,
            &caller,
            q,
            f.limit,
            f.cursor.as_deref(),
            |c: &Contact| f.billing.is_none_or(|b| c.billing == b),
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/v1/clients/{id}/contacts/{contact_id}", tag = "clients",
    params(("id" = String, Path), ("contact_id" = String, Path)),
    responses((status = 200, body = Contact), (status = 404)), operation_id = "get_contact")]
pub async fn get_contact(
    State(s): State<Services>,
    caller: Caller,
    Path((client_id, contact_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    visible_client(&s, &caller, &client_id).await?;
    let contact =
        fetch::<Contact>(&s, &keys::contact(&caller.tenant, &client_id, &contact_id)).await?;
    Ok(resource::respond(StatusCode::OK, &contact, None))
}

#[utoipa::path(patch, path = "/v1/clients/{id}/contacts/{contact_id}", tag = "clients",
    params(("id" = String, Path), ("contact_id" = String, Path)), request_body = ContactPatch,
    responses((status = 200, body = Contact), (status = 400), (status = 403), (status = 404), (status = 412)), operation_id = "patch_contact")]
pub async fn patch_contact(
    State(s): State<Services>,
    caller: Caller,
    Path((client_id, contact_id)): Path<(String, String)>,
    if_match: IfMatch,
    Json(body): Json<ContactPatch>,
) -> ApiResult<Response> {
    visible_client(&s, &caller, &client_id).await?;
    let current =
        fetch::<Contact>(&s, &keys::contact(&caller.tenant, &client_id, &contact_id)).await?;
    require_manages_work(&caller)?;
    let mut p = Problems::new();
    check_contact(
        &mut p,
        body.name.as_deref(),
        body.email.as_deref(),
        body.phone.as_deref(),
        body.title.as_deref(),
    );
    p.finish()?;
    let contact = resource::update(&s, &caller, current, if_match, "update", |c| {
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
    Ok(resource::respond(StatusCode::OK, &contact, None))
}
