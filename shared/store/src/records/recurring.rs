//! Billing automations: a project's recurring billing schedule (a retainer or
//! a plain recurring invoice), the once-only marker of each billed period, and
//! the outbox item of a reached milestone not yet drafted.

use agencyops_domain::Currency;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

/// How often a schedule bills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Anchored to a day of the month (1..=31; a shorter month bills on its last day).
    Monthly,
    /// Anchored to a weekday.
    Weekly,
}

/// A weekday, as schedules name them (jiff's own has no serde form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnchorWeekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl AnchorWeekday {
    pub fn to_jiff(self) -> jiff::civil::Weekday {
        use jiff::civil::Weekday as W;
        match self {
            AnchorWeekday::Monday => W::Monday,
            AnchorWeekday::Tuesday => W::Tuesday,
            AnchorWeekday::Wednesday => W::Wednesday,
            AnchorWeekday::Thursday => W::Thursday,
            AnchorWeekday::Friday => W::Friday,
            AnchorWeekday::Saturday => W::Saturday,
            AnchorWeekday::Sunday => W::Sunday,
        }
    }
}

/// One project's recurring billing. Its id is the project's id: a project has
/// at most one schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecurringSchedule {
    pub id: String,
    pub project_id: String,
    pub client_id: String,
    /// The client's currency when the schedule was saved.
    pub currency: Currency,
    /// Billed each period, in `currency`.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub cadence: Cadence,
    /// Monthly: the day of the month (1..=31).
    #[serde(default)]
    pub day_of_month: Option<u8>,
    /// Weekly: the weekday.
    #[serde(default)]
    pub weekday: Option<AnchorWeekday>,
    /// The first period starts on the first anchor day on or after it.
    pub start_on: Date,
    /// No period starts after it.
    #[serde(default)]
    pub end_on: Option<Date>,
    /// Hours of approved time each period's amount covers; none: time is not
    /// part of the schedule (it stays in WIP for time-and-materials invoices).
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub included_hours: Option<Decimal>,
    /// Unused included hours carry into the next period, up to the cap.
    #[serde(default)]
    pub rollover: bool,
    /// Most hours carried at any time (required with rollover).
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub rollover_cap_hours: Option<Decimal>,
    /// Unused included time carried into the next period to bill, in minutes
    /// (exact: included hours have two decimals, entries whole minutes).
    #[serde(with = "rust_decimal::serde::str")]
    pub carried_minutes: Decimal,
    /// Issue each period's invoice as soon as it is drafted.
    pub auto_issue: bool,
    /// The last day of the last period invoiced: the run continues with the
    /// first anchor day after it, so an outage is caught up on the original
    /// anchor, never re-anchored to the day the run came back.
    #[serde(default)]
    pub billed_through: Option<Date>,
    /// A period whose invoice is too large for one transaction, set while its
    /// claims are written batch by batch and cleared with the last: a run
    /// that finds it set finishes that invoice before anything else.
    #[serde(default)]
    pub building: Option<BuildingPeriod>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The period a schedule is still claiming work for (see `building`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildingPeriod {
    pub invoice_id: String,
    pub start: Date,
    pub end: Date,
    /// The schedule's carried minutes before this period, what its lines start from.
    #[serde(with = "rust_decimal::serde::str")]
    pub carried_minutes: Decimal,
}

impl Record for RecurringSchedule {
    versioned!("recurring_schedule");
    fn key(&self, tenant: &str) -> Key {
        keys::recurring_schedule(tenant, &self.project_id)
    }
}

/// One invoiced period of a schedule, written in the same transaction as its
/// draft: its key is the period's start, so a second draft of it cannot be written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecurringPeriodMarker {
    /// The period's first day (`YYYY-MM-DD`).
    pub id: String,
    pub project_id: String,
    pub period_end: Date,
    pub invoice_id: String,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for RecurringPeriodMarker {
    versioned!("recurring_period");
    fn key(&self, tenant: &str) -> Key {
        keys::recurring_period(tenant, &self.project_id, &self.id)
    }
}

/// A reached milestone whose invoice is not drafted yet: written with the
/// reach, removed by the drafter, read by the daily run (so a lost message
/// loses nothing).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReachedMilestone {
    /// The milestone's id.
    pub id: String,
    pub project_id: String,
    pub reached_at: Timestamp,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for ReachedMilestone {
    versioned!("reached_milestone");
    fn key(&self, tenant: &str) -> Key {
        keys::reached_milestone(tenant, &self.project_id, &self.id)
    }
}
