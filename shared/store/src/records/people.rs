use agencyops_domain::{Money, Role};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// The job they do, e.g. "designer"; rate cards price by it.
    pub job_role: Option<String>,
    /// What an hour of theirs costs the agency (for margin).
    pub cost_rate: Option<Money>,
    pub default_bill_rate: Option<Money>,
    #[serde(with = "rust_decimal::serde::str")]
    pub weekly_capacity_hours: Decimal,
    /// IANA zone; decides which day a timer's time lands on.
    pub time_zone: String,
    /// For the client role: the client this person belongs to.
    pub client_id: Option<String>,
    pub active: bool,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for Person {
    versioned!("person");
    fn key(&self, tenant: &str) -> Key {
        keys::person(tenant, &self.id)
    }
}
