//! What callers see of intake's records. Responses are their own types, built
//! by the operation for the caller's role: rates, costs and money values appear
//! only for admin, finance and managers (`access::sees_money`), and an intake
//! request's budget also for the client who asked (`access::sees_request_budget`).
//! A money field a caller may not see is left out, not shown as null, so "not
//! yours to see" never reads as "not set". Storage keys never appear.

use agencyops_domain::project::{BillingModel, Budget, Stage};
use agencyops_domain::rates::RateCard;
use agencyops_domain::rounding::TimeRounding;
use agencyops_domain::{Currency, Money, Role};
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::Caller;
use agencyops_store::records::{
    Client, Contact, Handoff, IntakeRequest, IntakeStatus, InvoicePreferences, Milestone,
    MilestoneStatus, Person, Project, Task, TaxRate,
};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::{sees_money, sees_request_budget};

/// A response carrying a version, so it can be sent with its ETag.
pub trait Versioned: Serialize {
    fn version(&self) -> u64;
}

/// A view as a response, with its ETag (and Location when just created).
pub fn respond<V: Versioned>(status: StatusCode, view: &V, location: Option<String>) -> Response {
    resource::respond_versioned(status, view, view.version(), location)
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn version(&self) -> u64 {
                self.version
            }
        }
    )*};
}

versioned!(
    ClientView,
    ContactView,
    ProjectView,
    TaskView,
    MilestoneView,
    PersonView,
    IntakeRequestView
);

/// A page of records as a page of views.
pub fn page<R, V>(page: ListPage<R>, view: impl FnMut(R) -> V) -> ListPage<V> {
    ListPage {
        items: page.items.into_iter().map(view).collect(),
        next_cursor: page.next_cursor,
    }
}

/// `value` if the caller may see it.
fn shown<T>(visible: bool, value: Option<T>) -> Option<T> {
    value.filter(|_| visible)
}

/// A money figure only some callers see: a decimal string, left out of the
/// response (not `null`) when unset or not theirs to see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figure(pub Option<Decimal>);

impl Figure {
    fn shown(visible: bool, value: Option<Decimal>) -> Figure {
        Figure(shown(visible, value))
    }

    pub fn is_hidden(&self) -> bool {
        self.0.is_none()
    }
}

impl Serialize for Figure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str_option::serialize(&self.0, s)
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub id: String,
    pub name: String,
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    pub payment_terms_days: u32,
    pub tax_rates: Vec<TaxRate>,
    pub billing_email: Option<String>,
    /// The client's default hourly rate. Admin, finance and managers only;
    /// absent when unset or not yours to see.
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Figure::is_hidden")]
    pub default_rate: Figure,
    pub rounding: Option<TimeRounding>,
    pub invoice_preferences: InvoicePreferences,
    pub archived: bool,
    pub version: u64,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

impl ClientView {
    pub fn of(caller: &Caller, c: Client) -> ClientView {
        ClientView {
            default_rate: Figure::shown(sees_money(caller), c.default_rate),
            id: c.id,
            name: c.name,
            currency: c.currency,
            payment_terms_days: c.payment_terms_days,
            tax_rates: c.tax_rates,
            billing_email: c.billing_email,
            rounding: c.rounding,
            invoice_preferences: c.invoice_preferences,
            archived: c.archived,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    /// Receives invoices and reminders.
    pub billing: bool,
    pub version: u64,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

impl ContactView {
    /// Contacts carry no money: everyone who reaches the client sees them whole.
    pub fn of(c: Contact) -> ContactView {
        ContactView {
            id: c.id,
            client_id: c.client_id,
            name: c.name,
            email: c.email,
            phone: c.phone,
            title: c.title,
            billing: c.billing,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A project's budget: hours and thresholds for everyone on it, fees only for
/// those who see money.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BudgetView {
    #[schema(value_type = Option<String>, example = "120")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub hours: Option<Decimal>,
    /// In the client's currency. Admin, finance and managers only; absent when
    /// unset or not yours to see.
    #[schema(value_type = Option<String>, example = "15000.00")]
    #[serde(skip_serializing_if = "Figure::is_hidden")]
    pub fees: Figure,
    /// Percentages of the budget at which an alert is raised once.
    pub alert_thresholds: Vec<u32>,
}

impl BudgetView {
    fn of(money: bool, b: Budget) -> BudgetView {
        BudgetView {
            hours: b.hours,
            fees: Figure::shown(money, b.fees),
            alert_thresholds: b.alert_thresholds,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub billing_model: BillingModel,
    /// The client's currency, which every amount of the project is in.
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    pub stage: Stage,
    pub budget: BudgetView,
    /// Admin, finance and managers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_card: Option<RateCard>,
    /// None: the client's rounding applies, else none.
    pub rounding: Option<TimeRounding>,
    /// People assigned to the project.
    pub team: Vec<String>,
    /// Total fee of a fixed-fee project. Admin, finance and managers only;
    /// absent when unset or not yours to see.
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Figure::is_hidden")]
    pub fixed_fee: Figure,
    #[schema(value_type = Option<String>)]
    pub starts_on: Option<Date>,
    #[schema(value_type = Option<String>)]
    pub ends_on: Option<Date>,
    /// What sales promised (scope, assumptions, roles with hours, contacts).
    pub handoff: Option<Handoff>,
    /// The intake request this project was won from.
    pub intake_request_id: Option<String>,
    pub version: u64,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

impl ProjectView {
    pub fn of(caller: &Caller, p: Project) -> ProjectView {
        let money = sees_money(caller);
        ProjectView {
            id: p.id,
            client_id: p.client_id,
            name: p.name,
            billing_model: p.billing_model,
            currency: p.currency,
            stage: p.stage,
            budget: BudgetView::of(money, p.budget),
            rate_card: shown(money, Some(p.rate_card)),
            rounding: p.rounding,
            team: p.team,
            fixed_fee: Figure::shown(money, p.fixed_fee),
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            handoff: p.handoff,
            intake_request_id: p.intake_request_id,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub billable: bool,
    #[schema(value_type = Option<String>)]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub estimate_hours: Option<Decimal>,
    pub archived: bool,
    pub version: u64,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

impl TaskView {
    /// Tasks carry hours, not money: everyone on the project sees them whole.
    pub fn of(t: Task) -> TaskView {
        TaskView {
            id: t.id,
            project_id: t.project_id,
            name: t.name,
            billable: t.billable,
            estimate_hours: t.estimate_hours,
            archived: t.archived,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MilestoneView {
    pub id: String,
    pub project_id: String,
    pub name: String,
    #[schema(value_type = Option<String>)]
    pub due_on: Option<Date>,
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    /// Amount billed when reached, in `currency`. Admin, finance and managers
    /// only; absent when unset or not yours to see.
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Figure::is_hidden")]
    pub amount: Figure,
    pub status: MilestoneStatus,
    pub version: u64,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

impl MilestoneView {
    pub fn of(caller: &Caller, m: Milestone) -> MilestoneView {
        MilestoneView {
            amount: Figure::shown(sees_money(caller), m.amount),
            id: m.id,
            project_id: m.project_id,
            name: m.name,
            due_on: m.due_on,
            currency: m.currency,
            status: m.status,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PersonView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// The job they do, e.g. "designer"; rate cards price by it.
    pub job_role: Option<String>,
    /// What an hour of theirs costs the agency. Admin, finance and managers
    /// only (not even the person themselves); absent when unset or not yours to see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_rate: Option<Money>,
    /// Their default bill rate. Admin, finance and managers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_bill_rate: Option<Money>,
    #[schema(value_type = String, example = "40")]
    #[serde(with = "rust_decimal::serde::str")]
    pub weekly_capacity_hours: Decimal,
    /// IANA zone; decides which day a timer's time lands on.
    pub time_zone: String,
    /// For the client role: the client this person belongs to.
    pub client_id: Option<String>,
    pub active: bool,
    pub version: u64,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

impl PersonView {
    pub fn of(caller: &Caller, p: Person) -> PersonView {
        let money = sees_money(caller);
        PersonView {
            cost_rate: shown(money, p.cost_rate),
            default_bill_rate: shown(money, p.default_bill_rate),
            id: p.id,
            name: p.name,
            email: p.email,
            role: p.role,
            job_role: p.job_role,
            weekly_capacity_hours: p.weekly_capacity_hours,
            time_zone: p.time_zone,
            client_id: p.client_id,
            active: p.active,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IntakeRequestView {
    pub id: String,
    pub client_id: String,
    pub title: String,
    pub brief: String,
    #[schema(value_type = Option<String>)]
    pub desired_start: Option<Date>,
    #[schema(value_type = Option<String>)]
    pub desired_end: Option<Date>,
    /// The client's currency when the request was made; `budget` is in it.
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    /// What the client hopes to spend: shown to the staff who see money and to
    /// the client who asked; absent when unset.
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Figure::is_hidden")]
    pub budget: Figure,
    pub status: IntakeStatus,
    pub decline_reason: Option<String>,
    /// Set when accepted: the project it became.
    pub project_id: Option<String>,
    pub requested_by: String,
    pub version: u64,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

impl IntakeRequestView {
    pub fn of(caller: &Caller, r: IntakeRequest) -> IntakeRequestView {
        IntakeRequestView {
            budget: Figure::shown(sees_request_budget(caller), r.budget),
            id: r.id,
            client_id: r.client_id,
            title: r.title,
            brief: r.brief,
            desired_start: r.desired_start,
            desired_end: r.desired_end,
            currency: r.currency,
            status: r.status,
            decline_reason: r.decline_reason,
            project_id: r.project_id,
            requested_by: r.requested_by,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
