use agencyops_domain::Currency;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntakeStatus {
    Open,
    Accepted,
    Declined,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntakeRequest {
    pub id: String,
    pub client_id: String,
    pub title: String,
    pub brief: String,
    pub desired_start: Option<Date>,
    pub desired_end: Option<Date>,
    /// The client's currency when the request was made; `budget` is in it.
    pub currency: Currency,
    /// What the client hopes to spend.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub budget: Option<Decimal>,
    pub status: IntakeStatus,
    pub decline_reason: Option<String>,
    /// Set when accepted: the project it became.
    pub project_id: Option<String>,
    pub requested_by: String,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for IntakeRequest {
    versioned!("intake_request");
    fn key(&self, tenant: &str) -> Key {
        keys::intake_request(tenant, &self.id)
    }
    fn index_keys(&self, tenant: &str) -> [Option<(String, String)>; 2] {
        [
            None,
            Some((
                keys::client_intake_requests(tenant, &self.client_id),
                keys::intake_request_sort(&self.id),
            )),
        ]
    }
}
