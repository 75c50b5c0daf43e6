//! Read-only views over approved work: project budgets, the audit trail, and
//! the utilization and work-in-progress reports. Nothing here writes: every
//! figure is derived from what time capture and approvals stored, so a report
//! cannot disagree with the work it sums.

pub mod audit_log;
pub mod budget_view;
pub mod utilization;
pub mod wip;

use agencyops_domain::{Currency, Money, MoneyRounding};
use agencyops_platform::Services;
use axum::routing::get;
use axum::Router;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

/// Reports round money to the currency's minor unit by this rule, and name it.
pub const ROUNDING: MoneyRounding = MoneyRounding::HalfUp;

/// An amount as a report shows it: rounded for reading, exact for reconciling.
/// Sums are always taken of exact values and rounded once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Amount {
    /// Rounded to the currency's minor unit by the report's `rounding` rule.
    #[schema(value_type = String, example = "200.88")]
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Unrounded.
    #[schema(value_type = String, example = "200.875")]
    #[serde(with = "rust_decimal::serde::str")]
    pub exact: Decimal,
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
}

impl Amount {
    pub fn of(exact: Decimal, currency: Currency) -> Amount {
        let mut amount = Money::rounded(exact, currency, ROUNDING).amount;
        // Always show every minor digit: 10.00 EUR, not 10.
        amount.rescale(currency.minor_units());
        Amount {
            amount,
            exact: exact.normalize(),
            currency,
        }
    }
}

pub fn routes() -> Router<Services> {
    Router::new()
        .route(
            "/v1/projects/{id}/budget",
            get(budget_view::get_project_budget),
        )
        .route("/v1/audit", get(audit_log::list_audit))
        .route(
            "/v1/reports/utilization",
            get(utilization::utilization_report),
        )
        .route("/v1/reports/wip", get(wip::wip_report))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        budget_view::get_project_budget,
        audit_log::list_audit,
        utilization::utilization_report,
        wip::wip_report,
    ),
    tags(
        (name = "reports", description = "Budgets, utilization, work in progress and the audit trail"),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_round_half_up_once_and_keep_the_exact_figure() {
        let eur = Currency::parse("EUR").unwrap();
        let a = Amount::of(dec!(200.875), eur);
        assert_eq!((a.amount, a.exact), (dec!(200.88), dec!(200.875)));
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Amount::of(dec!(1250.5), jpy).amount, dec!(1251));
        let json = serde_json::to_value(Amount::of(dec!(10), eur)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"amount": "10.00", "exact": "10", "currency": "EUR"})
        );
    }
}
