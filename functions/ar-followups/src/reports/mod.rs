//! Finance reports over receivables (ar-aging, dso, cash-forecast) and the
//! aging job that keeps a daily AR snapshot and queues the Monday digest.
//! Handlers only translate HTTP; each report is one operation over
//! `&Services` that checks the caller's reach first (the staff who run the
//! agency: `access::require_reads_reports`; members, contractors and client
//! users get a 403).

pub mod aging;
pub mod dso;
pub mod forecast;
pub mod ledger;
pub mod snapshot;

use agencyops_platform::extract::Query;
use agencyops_platform::{ApiResult, Caller, Services};
use axum::extract::State;
use axum::Json;

#[utoipa::path(get, path = "/v1/reports/ar-aging", tag = "reports", params(aging::AgingParams),
    responses(
        (status = 200, body = aging::AgingReport, description = "Balances per client and currency by days past due, as of the end of the day"),
        (status = 400, description = "A query parameter is not a date or is unknown", content_type = "application/problem+json"),
        (status = 401, description = "No valid credentials", content_type = "application/problem+json"),
        (status = 403, description = "Only admin, finance and managers read receivables", content_type = "application/problem+json")),
    operation_id = "ar_aging_report")]
pub async fn ar_aging(
    State(s): State<Services>,
    caller: Caller,
    Query(p): Query<aging::AgingParams>,
) -> ApiResult<Json<aging::AgingReport>> {
    Ok(Json(aging::report(&s, &caller, p).await?))
}

#[utoipa::path(get, path = "/v1/reports/dso", tag = "reports", params(dso::DsoParams),
    responses(
        (status = 200, body = dso::DsoReport, description = "Days sales outstanding by countback, simple and average-AR, and average days to pay"),
        (status = 400, description = "A bad date, from after to, a period over 731 days, or an unknown parameter", content_type = "application/problem+json"),
        (status = 401, description = "No valid credentials", content_type = "application/problem+json"),
        (status = 403, description = "Only admin, finance and managers read receivables", content_type = "application/problem+json")),
    operation_id = "dso_report")]
pub async fn dso_report(
    State(s): State<Services>,
    caller: Caller,
    Query(p): Query<dso::DsoParams>,
) -> ApiResult<Json<dso::DsoReport>> {
    Ok(Json(dso::report(&s, &caller, p).await?))
}

#[utoipa::path(get, path = "/v1/reports/cash-forecast", tag = "reports", params(forecast::ForecastParams),
    responses(
        (status = 200, body = forecast::ForecastReport, description = "Expected cash per week in best, base and conservative scenarios"),
        (status = 400, description = "weeks is not a whole number from 1 to 52, or an unknown parameter", content_type = "application/problem+json"),
        (status = 401, description = "No valid credentials", content_type = "application/problem+json"),
        (status = 403, description = "Only admin, finance and managers read receivables", content_type = "application/problem+json")),
    operation_id = "cash_forecast_report")]
pub async fn cash_forecast(
    State(s): State<Services>,
    caller: Caller,
    Query(p): Query<forecast::ForecastParams>,
) -> ApiResult<Json<forecast::ForecastReport>> {
    Ok(Json(forecast::report(&s, &caller, p).await?))
}
