use agencyops_domain::project::{BillingModel, Budget, Stage};
use agencyops_domain::rates::RateCard;
use agencyops_domain::rounding::TimeRounding;
use agencyops_domain::Currency;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

/// What sales promised, carried into the project so it reaches the baseline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub scope_summary: String,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub assumptions: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub roles: Vec<NamedRole>,
    /// Client contacts who matter for the work.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub contact_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedRole {
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub job_role: String,
    #[serde(default)]
    pub person_id: Option<String>,
    /// A decimal string, or a JSON number (read exactly).
    #[schema(schema_with = role_hours_schema)]
    #[serde(default, with = "agencyops_domain::quantity::option")]
    pub hours: Option<Decimal>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub billing_model: BillingModel,
    /// The client's currency, which every amount of the project is in.
    pub currency: Currency,
    pub stage: Stage,
    pub budget: Budget,
    pub rate_card: RateCard,
    /// None: the client's rounding applies, else none.
    pub rounding: Option<TimeRounding>,
    /// People assigned to the project (members and contractors see only these projects).
    pub team: Vec<String>,
    /// Total fee for fixed-fee projects, in the client's currency.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub fixed_fee: Option<Decimal>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub handoff: Option<Handoff>,
    /// The intake request this project was won from.
    pub intake_request_id: Option<String>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for Project {
    versioned!("project");
    fn key(&self, tenant: &str) -> Key {
        keys::project(tenant, &self.id)
    }
    fn index_keys(&self, tenant: &str) -> [Option<(String, String)>; 2] {
        [
            Some((keys::projects(tenant), keys::project_sort(&self.id))),
            Some((
                keys::client_projects(tenant, &self.client_id),
                keys::project_sort(&self.id),
            )),
        ]
    }
}

/// A person's assignment to a project: lets "my projects" be one query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectMember {
    pub id: String,
    pub project_id: String,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl Record for ProjectMember {
    versioned!("project_member");
    fn key(&self, tenant: &str) -> Key {
        keys::member(tenant, &self.project_id, &self.id)
    }
    fn index_keys(&self, tenant: &str) -> [Option<(String, String)>; 2] {
        [
            Some((
                keys::person_projects(tenant, &self.id),
                keys::project_sort(&self.project_id),
            )),
            None,
        ]
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub billable: bool,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub estimate_hours: Option<Decimal>,
    pub archived: bool,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for Task {
    versioned!("task");
    fn key(&self, tenant: &str) -> Key {
        keys::task(tenant, &self.project_id, &self.id)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneStatus {
    Planned,
    Reached,
    Invoiced,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub due_on: Option<Date>,
    pub currency: Currency,
    /// Amount billed when reached, in `currency`.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub amount: Option<Decimal>,
    pub status: MilestoneStatus,
    /// The invoice that bills it, once invoiced.
    #[serde(default)]
    pub invoice_id: Option<String>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for Milestone {
    versioned!("milestone");
    fn key(&self, tenant: &str) -> Key {
        keys::milestone(tenant, &self.project_id, &self.id)
    }
}

/// A named role's hours: a decimal string or a number.
fn role_hours_schema() -> utoipa::openapi::schema::Object {
    agencyops_domain::quantity::schema(
        r"^$|^[0-9]{1,6}(\.[0-9]{1,2})?$",
        (0.0, 1_000_000.0),
        false,
        Some(2),
        true,
    )
}
