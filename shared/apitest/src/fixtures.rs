//! Records for unit tests that need one without going through the API.

use agencyops_domain::project::{BillingModel, Budget, Stage};
use agencyops_domain::rates::RateCard;
use agencyops_domain::Currency;
use agencyops_store::records::Project;
use jiff::Timestamp;

/// An active time-and-materials EUR project "p" of client "c", with no rates,
/// budget or rounding; tests set what they are about with `..project()`.
pub fn project() -> Project {
    Project {
        id: "p".into(),
        client_id: "c".into(),
        name: "Rebrand".into(),
        billing_model: BillingModel::TimeAndMaterials,
        currency: Currency::parse("EUR").expect("EUR is a currency"),
        stage: Stage::Active,
        budget: Budget::default(),
        rate_card: RateCard::default(),
        rounding: None,
        team: vec![],
        fixed_fee: None,
        starts_on: None,
        ends_on: None,
        handoff: None,
        intake_request_id: None,
        version: 1,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
    }
}
