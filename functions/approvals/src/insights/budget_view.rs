//! `GET /v1/projects/{id}/budget`: how much of a project's budget approved work
//! has used, what it earned and cost, and the alerts raised on the way. The
//! burn is kept by the budget consumer as work is approved; a project nobody
//! has approved work on yet simply has nothing burnt.

use agencyops_domain::budget::percent_used;
use agencyops_domain::timesheet::hours;
use agencyops_domain::{Currency, MoneyRounding};
use agencyops_platform::access;
use agencyops_platform::access::visible_project;
use agencyops_platform::extract::Path;
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::keys;
use agencyops_store::record::load;
use agencyops_store::records::{BudgetAlert, Project, ProjectBurn};
use axum::extract::State;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Amount, ROUNDING};

/// Hours against the hours budget. All approved hours count, billable or not:
/// the budget is the time the agency planned to spend.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct HoursBurn {
    #[schema(value_type = Option<String>, example = "120")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub budget: Option<Decimal>,
    #[schema(value_type = String, example = "96.5")]
    #[serde(with = "rust_decimal::serde::str")]
    pub used: Decimal,
    #[schema(value_type = String, example = "90")]
    #[serde(with = "rust_decimal::serde::str")]
    pub billable: Decimal,
    /// Budget minus used; negative when over budget.
    #[schema(value_type = Option<String>, example = "23.5")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub remaining: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "80.42")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub percent_used: Option<Decimal>,
    pub over_budget: bool,
}

/// Approved billable value (time and re-billed expenses) against the fee budget.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FeesBurn {
    pub budget: Option<Amount>,
    pub used: Amount,
    /// Budget minus used; negative when over budget.
    pub remaining: Option<Amount>,
    #[schema(value_type = Option<String>, example = "64.20")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub percent_used: Option<Decimal>,
    pub over_budget: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ProjectBudget {
    pub project_id: String,
    pub project_name: String,
    pub client_id: String,
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    /// How the rounded money figures were rounded.
    pub rounding: MoneyRounding,
    pub hours: HoursBurn,
    pub fees: FeesBurn,
    /// What the approved hours cost the agency.
    pub cost: Amount,
    /// Fees minus cost.
    pub margin: Amount,
    /// Margin as a percentage of fees; none before any fees.
    #[schema(value_type = Option<String>, example = "35.50")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub margin_percent: Option<Decimal>,
    /// Percentages of the budget that raise an alert.
    pub alert_thresholds: Vec<u32>,
    /// Alerts raised so far, oldest first; each threshold is raised once.
    pub alerts: Vec<BudgetAlert>,
    /// When approved work last changed the burn; none before any.
    #[schema(value_type = Option<String>)]
    pub burn_updated_at: Option<Timestamp>,
}

/// The budget view of `project` given its burn (none: nothing approved yet).
/// The burn must be in the project's currency (the caller checks).
pub fn budget_view(project: &Project, burn: Option<&ProjectBurn>) -> ProjectBudget {
    let currency = project.currency;
    let (minutes, billable_minutes, fees, cost) = burn
        .map_or((0, 0, Decimal::ZERO, Decimal::ZERO), |b| {
            (b.minutes, b.billable_minutes, b.fees, b.cost)
        });
    let budget = &project.budget;

    // Hours to two places for display. The consumer compares exact minutes
    // against thresholds; with whole minutes the two only differ below a
    // hundredth of an hour, so a percentage shown and its alert agree.
    let used_hours = hours(minutes);
    let hours_burn = HoursBurn {
        budget: budget.hours,
        used: used_hours,
        billable: hours(billable_minutes),
        remaining: budget.hours.map(|b| b - used_hours),
        percent_used: budget.hours.and_then(|b| percent_used(used_hours, b)),
        over_budget: budget.hours.is_some_and(|b| used_hours > b),
    };
    let fees_burn = FeesBurn {
        budget: budget.fees.map(|b| Amount::of(b, currency)),
        used: Amount::of(fees, currency),
        remaining: budget.fees.map(|b| Amount::of(b - fees, currency)),
        percent_used: budget.fees.and_then(|b| percent_used(fees, b)),
        over_budget: budget.fees.is_some_and(|b| fees > b),
    };
    let margin = fees - cost;
    let mut alerts = burn.map(|b| b.alerts.clone()).unwrap_or_default();
    alerts.sort_by(|a, b| {
        (a.raised_at, a.measure, a.threshold_percent).cmp(&(
            b.raised_at,
            b.measure,
            b.threshold_percent,
        ))
    });
    ProjectBudget {
        project_id: project.id.clone(),
        project_name: project.name.clone(),
        client_id: project.client_id.clone(),
        currency,
        rounding: ROUNDING,
        hours: hours_burn,
        fees: fees_burn,
        cost: Amount::of(cost, currency),
        margin: Amount::of(margin, currency),
        margin_percent: percent_used(margin, fees),
        alert_thresholds: budget.alert_thresholds.clone(),
        alerts,
        burn_updated_at: burn.map(|b| b.updated_at),
    }
}

#[utoipa::path(get, path = "/v1/projects/{id}/budget", tag = "reports", params(("id" = String, Path)),
    responses((status = 200, body = ProjectBudget), (status = 403), (status = 404)), operation_id = "get_project_budget")]
pub async fn get_project_budget(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ProjectBudget>> {
    // Seeing the project comes first: one the caller cannot see is not found.
    let project = visible_project(&s, &caller, &id).await?;
    access::require_reads_reports(&caller)?;
    let burn = load::<ProjectBurn>(&*s.table, &keys::project_burn(&caller.tenant, &id)).await?;
    if let Some(b) = &burn {
        if b.currency != project.currency {
            return Err(ApiError::Internal(format!(
                "burn of project {id} is in {} but the project bills in {}",
                b.currency, project.currency
            )));
        }
    }
    Ok(axum::Json(budget_view(&project, burn.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_domain::budget::Measure;
    use agencyops_domain::project::Budget;
    use rust_decimal_macros::dec;

    fn project(budget: Budget) -> Project {
        Project {
            budget,
            ..agencyops_apitest::fixtures::project()
        }
    }

    fn burn(minutes: u64, fees: Decimal, cost: Decimal) -> ProjectBurn {
        ProjectBurn {
            id: "p".into(),
            minutes,
            billable_minutes: minutes,
            fees,
            cost,
            currency: Currency::parse("EUR").unwrap(),
            alerts: vec![],
            changes_applied: 1,
            version: 1,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn ten_hours_1000_eur() -> Budget {
        Budget {
            hours: Some(dec!(10)),
            fees: Some(dec!(1000)),
            alert_thresholds: vec![80, 100],
        }
    }

    #[test]
    fn nothing_burnt_leaves_the_whole_budget() {
        let v = budget_view(&project(ten_hours_1000_eur()), None);
        assert_eq!(v.hours.remaining, Some(dec!(10)));
        assert_eq!(v.hours.percent_used, Some(dec!(0)));
        assert_eq!(v.fees.remaining.map(|a| a.amount), Some(dec!(1000.00)));
        assert_eq!(v.margin.amount, dec!(0.00));
        assert_eq!(v.margin_percent, None);
        assert!(!v.hours.over_budget && !v.fees.over_budget);
    }

    #[test]
    fn over_budget_shows_negative_remaining() {
        let b = burn(12 * 60, dec!(1150.005), dec!(400));
        let v = budget_view(&project(ten_hours_1000_eur()), Some(&b));
        assert_eq!(v.hours.remaining, Some(dec!(-2)));
        assert_eq!(v.hours.percent_used, Some(dec!(120)));
        assert!(v.hours.over_budget);
        let fees = v.fees.remaining.unwrap();
        assert_eq!((fees.exact, fees.amount), (dec!(-150.005), dec!(-150.01)));
        assert_eq!(v.fees.used.amount, dec!(1150.01));
        assert_eq!(v.margin.exact, dec!(750.005));
        assert!(v.fees.over_budget);
    }

    #[test]
    fn a_minute_short_of_the_budget_is_not_over_it() {
        let b = burn(10 * 60 - 1, dec!(0), dec!(0));
        let v = budget_view(&project(ten_hours_1000_eur()), Some(&b));
        assert!(!v.hours.over_budget);
        assert_eq!(v.hours.percent_used, Some(dec!(99.8)));
    }

    #[test]
    fn no_budget_means_no_percentages() {
        let b = burn(60, dec!(100), dec!(30));
        let v = budget_view(&project(Budget::default()), Some(&b));
        assert_eq!(v.hours.remaining, None);
        assert_eq!(v.fees.percent_used, None);
        assert_eq!(v.margin_percent, Some(dec!(70)));
    }

    #[test]
    fn alerts_are_listed_in_the_order_they_were_raised() {
        let mut b = burn(600, dec!(0), dec!(0));
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        let alert = |m, t, s| BudgetAlert {
            measure: m,
            threshold_percent: t,
            raised_at: at(s),
            percent_used: dec!(100),
        };
        b.alerts = vec![
            alert(Measure::Hours, 100, 20),
            alert(Measure::Hours, 80, 10),
        ];
        let v = budget_view(&project(ten_hours_1000_eur()), Some(&b));
        let order: Vec<u32> = v.alerts.iter().map(|a| a.threshold_percent).collect();
        assert_eq!(order, vec![80, 100]);
    }
}
