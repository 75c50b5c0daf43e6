//! `/v1/expenses`: money spent on a project, in the client's currency, to be
//! approved and possibly re-billed with a markup. The receipt is attached later
//! by the receipts function.

use agencyops_domain::timesheet::WorkStatus;
use agencyops_domain::{validate, Currency};
use agencyops_platform::access;
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{IfMatch, Json, Path, Query};
use agencyops_platform::period::Period;
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::{ApiResult, Caller, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::records::Expense;
use agencyops_store::{keys, Index, Query as StoreQuery, SkCondition};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::expense_view::{self, ExpenseView};
use crate::policy::{self, check_date, check_id, check_note, Worker};
use crate::view::Audience;
use crate::work_list::WorkFilter;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExpense {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub project_id: String,
    #[schema(value_type = String, format = Date, pattern = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$", example = "2026-11-20")]
    pub date: Date,
    /// Greater than zero, in the currency's minor unit (at most 2 decimals here).
    #[serde(with = "agencyops_domain::quantity::money")]
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$", example = "42.50")]
    pub amount: Decimal,
    /// Must be the project's currency; defaults to it.
    #[serde(default)]
    #[schema(example = "EUR")]
    pub currency: Option<Currency>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub category: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// Defaults from the project's billing model.
    #[serde(default)]
    pub billable: Option<bool>,
    /// Added when re-billed, 0 to 1000 (%), at most 2 decimals.
    #[serde(default, with = "agencyops_domain::quantity::option")]
    #[schema(schema_with = markup_percent_schema)]
    pub markup_percent: Option<Decimal>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpensePatch {
    #[schema(value_type = Option<String>, format = Date, pattern = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$")]
    pub date: Option<Date>,
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$")]
    pub amount: Option<Decimal>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub category: Option<String>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    pub billable: Option<bool>,
    /// `null` (or `""`) removes the markup.
    #[serde(
        default,
        deserialize_with = "agencyops_domain::quantity::nullable::deserialize"
    )]
    #[schema(schema_with = markup_percent_schema)]
    pub markup_percent: Option<Option<Decimal>>,
}

/// A markup: 0 to 1000 (%), two decimals; a string or a number, `null` or `""` for none.
fn markup_percent_schema() -> utoipa::openapi::schema::Object {
    agencyops_domain::quantity::schema(
        r"^$|^([0-9]{1,3}(\.[0-9]{1,2})?|1000(\.0{1,2})?)$",
        (0.0, 1000.0),
        false,
        Some(2),
        true,
    )
}

fn check_markup(p: &mut Problems, markup: Option<Decimal>) {
    if markup.is_some_and(|m| {
        m.is_sign_negative() || m > Decimal::from(1000) || m.normalize().scale() > 2
    }) {
        p.add(
            "markup_percent",
            "must be 0 to 1000 (%) with at most 2 decimals",
        );
    }
}

fn check_category(p: &mut Problems, category: &str) {
    p.check("category", validate::name(category, 100));
}

/// An expense the caller may change, still editable, at the version they name.
async fn changeable_expense(
    s: &Services,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
) -> ApiResult<Expense> {
    let expense = access::visible_expense(s, caller, id).await?;
    let work = policy::WorkState::of(
        "expense",
        &expense.person_id,
        expense.version,
        expense.status,
    );
    policy::require_changeable(caller, work, if_match)?;
    Ok(expense)
}

#[utoipa::path(post, path = "/v1/expenses", tag = "expenses", request_body = NewExpense,
    responses((status = 201, body = ExpenseView), (status = 400), (status = 403), (status = 404), (status = 409)),
    operation_id = "create_expense")]
pub async fn create(
    State(s): State<Services>,
    caller: Caller,
    Json(body): Json<NewExpense>,
) -> ApiResult<Response> {
    policy::refuse_client(&caller)?;
    let mut p = Problems::new();
    check_id(&mut p, "project_id", &body.project_id);
    check_date(&mut p, "date", body.date);
    check_category(&mut p, &body.category);
    check_note(&mut p, "note", &body.note);
    check_markup(&mut p, body.markup_percent);
    p.finish()?;
    let project =
        policy::project_for_work(&s, &caller, &body.project_id, &Worker::caller(&caller)).await?;
    let currency = body.currency.unwrap_or(project.currency);
    let mut p = Problems::new();
    if currency != project.currency {
        p.add(
            "currency",
            format!(
                "must be {}, the currency of this project's client",
                project.currency
            ),
        );
    }
    p.check(
        "amount",
        validate::amount(&body.amount, currency.minor_units()),
    );
    p.finish()?;
    let period = Period::load(&s, &caller.tenant).await?;
    period.check(body.date)?;
    let now = s.clock.now();
    let expense = Expense {
        id: resource::new_id(),
        person_id: caller.person.clone(),
        project_id: project.id.clone(),
        date: body.date,
        amount: body.amount,
        currency,
        category: body.category.trim().to_owned(),
        note: body.note.trim().to_owned(),
        billable: body
            .billable
            .unwrap_or(project.billing_model.billable_by_default()),
        markup_percent: body.markup_percent,
        status: WorkStatus::Draft,
        approval: None,
        rejection: None,
        invoice_id: None,
        receipt: None,
        recorded_by: Some(caller.person.clone()),
        changed_by: Some(caller.person.clone()),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    resource::insert(&s, &caller, &expense, vec![period.pin(&caller.tenant)]).await?;
    Ok(expense_view::respond(
        StatusCode::CREATED,
        &expense_view::view(expense, Audience::of(&caller)),
        true,
    ))
}

#[utoipa::path(get, path = "/v1/expenses", tag = "expenses", params(WorkFilter),
    responses((status = 200, body = ListPage<ExpenseView>), (status = 400), (status = 403), (status = 404)),
    operation_id = "list_expenses")]
pub async fn list(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<WorkFilter>,
) -> ApiResult<axum::Json<ListPage<ExpenseView>>> {
    let tenant = caller.tenant.as_str();
    let page = f
        .page::<Expense>(&s, &caller, |person, from, to| {
            StoreQuery::new(Index::Gsi1, keys::person_expenses(tenant, person))
                .sk(SkCondition::Between(
                    keys::expense_sort(&from.to_string(), ""),
                    keys::expense_sort(&to.to_string(), "~"),
                ))
                .backward()
        })
        .await?;
    let audience = Audience::of(&caller);
    Ok(axum::Json(ListPage {
        items: page
            .items
            .into_iter()
            .map(|e| expense_view::view(e, audience))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/v1/expenses/{id}", tag = "expenses", params(("id" = String, Path)),
    responses((status = 200, body = ExpenseView), (status = 403), (status = 404)), operation_id = "get_expense")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let expense = access::visible_expense(&s, &caller, &id).await?;
    let view = expense_view::view(expense, Audience::of(&caller));
    Ok(expense_view::respond(StatusCode::OK, &view, false))
}

#[utoipa::path(patch, path = "/v1/expenses/{id}", tag = "expenses", params(("id" = String, Path)), request_body = ExpensePatch,
    responses((status = 200, body = ExpenseView), (status = 400), (status = 403), (status = 404), (status = 409), (status = 412)),
    operation_id = "patch_expense")]
pub async fn patch(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<ExpensePatch>,
) -> ApiResult<Response> {
    let current = changeable_expense(&s, &caller, &id, if_match).await?;
    let mut p = Problems::new();
    let markup = body.markup_percent;
    check_markup(&mut p, markup.flatten());
    if let Some(d) = body.date {
        check_date(&mut p, "date", d);
    }
    if let Some(a) = &body.amount {
        p.check(
            "amount",
            validate::amount(a, current.currency.minor_units()),
        );
    }
    if let Some(c) = &body.category {
        check_category(&mut p, c);
    }
    if let Some(n) = &body.note {
        check_note(&mut p, "note", n);
    }
    p.finish()?;
    policy::project_of_work(&s, &caller, &current.project_id).await?;
    policy::require_records_for(&s, &caller, &current.person_id, &current.project_id).await?;
    let period = Period::load(&s, &caller.tenant).await?;
    period.check(current.date)?;
    if let Some(d) = body.date {
        period.check(d)?;
    }
    let pin = period.pin(&caller.tenant);
    let changer = caller.person.clone();
    let expense = resource::update(&s, &caller, current, if_match, AuditAction::Update, |e| {
        let before = e.clone();
        if let Some(d) = body.date {
            e.date = d;
        }
        if let Some(a) = body.amount {
            e.amount = a;
        }
        if let Some(c) = body.category {
            e.category = c.trim().to_owned();
        }
        if let Some(n) = body.note {
            e.note = n.trim().to_owned();
        }
        if let Some(b) = body.billable {
            e.billable = b;
        }
        if let Some(m) = markup {
            e.markup_percent = m;
        }
        if *e == before {
            return Ok(vec![]);
        }
        // Fixing an expense that was sent back makes it a draft again.
        e.status = WorkStatus::Draft;
        e.changed_by = Some(changer);
        Ok(vec![pin])
    })
    .await?;
    let view = expense_view::view(expense, Audience::of(&caller));
    Ok(expense_view::respond(StatusCode::OK, &view, false))
}

#[utoipa::path(delete, path = "/v1/expenses/{id}", tag = "expenses", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 412)), operation_id = "delete_expense")]
pub async fn delete(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let current = changeable_expense(&s, &caller, &id, if_match).await?;
    policy::project_of_work(&s, &caller, &current.project_id).await?;
    policy::require_records_for(&s, &caller, &current.person_id, &current.project_id).await?;
    let period = Period::load(&s, &caller.tenant).await?;
    period.check(current.date)?;
    let mut tx = Tx::new(&caller.tenant).if_match(if_match.0.is_some());
    tx.delete(
        &current,
        Fails::stale("the expense changed while it was being deleted; reload and retry"),
    )
    .audit(
        &s,
        &caller,
        AuditAction::Delete,
        Some(&current),
        None,
        &current.id,
    )?
    .push(
        period.pin(&caller.tenant),
        Fails::changed("the lock date changed while deleting; reload and retry"),
    );
    tx.commit(&s).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
