use agencyops_domain::rounding::TimeRounding;
use agencyops_domain::Currency;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRate {
    #[schema(
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// A decimal string, or a JSON number (read exactly).
    #[schema(schema_with = tax_percent_schema, example = "23")]
    #[serde(with = "agencyops_domain::quantity")]
    pub percent: Decimal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceDetail {
    /// One line per group with hours and amount.
    #[default]
    Summary,
    /// Every time entry listed under its group.
    Detailed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeGrouping {
    #[default]
    Project,
    Task,
    Person,
    Entry,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicePreferences {
    #[serde(default)]
    pub detail: InvoiceDetail,
    #[serde(default)]
    pub group_time_by: TimeGrouping,
    #[serde(default)]
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub po_number: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Issue milestone and recurring invoices as soon as they are drafted
    /// (default: they wait as drafts for finance).
    #[serde(default)]
    pub auto_issue: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// Every invoice to this client is in this currency.
    pub currency: Currency,
    pub payment_terms_days: u32,
    pub tax_rates: Vec<TaxRate>,
    pub billing_email: Option<String>,
    /// The client's default hourly rate, below project rates in the hierarchy.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub default_rate: Option<Decimal>,
    /// Time rounding for this client's projects unless a project sets its own.
    pub rounding: Option<TimeRounding>,
    pub invoice_preferences: InvoicePreferences,
    pub archived: bool,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for Client {
    versioned!("client");
    fn key(&self, tenant: &str) -> Key {
        keys::client(tenant, &self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    /// Receives invoices and reminders.
    pub billing: bool,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for Contact {
    versioned!("contact");
    fn key(&self, tenant: &str) -> Key {
        keys::contact(tenant, &self.client_id, &self.id)
    }
}

/// A tax rate's percent: 0 to 100, three decimals; a string or a number.
fn tax_percent_schema() -> utoipa::openapi::schema::Object {
    agencyops_domain::quantity::schema(
        r"^([0-9]{1,2}(\.[0-9]{1,3})?|100(\.0{1,3})?)$",
        (0.0, 100.0),
        false,
        Some(3),
        false,
    )
}
