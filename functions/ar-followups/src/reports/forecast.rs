//! `GET /v1/reports/cash-forecast?weeks=13`: cash expected per week, per
//! currency, in the best, base and conservative scenarios of
//! `agencyops_domain::receivables::forecast` (the response states each one's
//! assumptions), from:
//!
//! - open invoices: their balance due, on the due date shifted by the
//!   client's history of days late (paid invoices settled in the last
//!   [`HISTORY_DAYS`] days);
//! - work in progress (the unbilled index), at the value invoicing bills it
//!   (approved value of time, expenses with markup; before tax), rounded
//!   once per project and currency, paid on the client's terms;
//! - reached milestones not yet invoiced, at their amount, likewise;
//! - scheduled retainer and recurring invoices: see [`scheduled_recurring`].
//!
//! Reads: the invoice index pages and one partition per invoice paid in the
//! history window (see `ledger`), one query each for clients, projects and
//! the unbilled index, and one query per project for its milestones.

use std::collections::BTreeMap;

use agencyops_approvals::insights::wip::Work;
use agencyops_domain::receivables::forecast::{
    expected_for_invoice, expected_for_unbilled, slot, Lateness, Scenario, Slot,
};
use agencyops_domain::receivables::pay::days_between;
use agencyops_domain::receivables::{round_days, round_money};
use agencyops_domain::{Currency, MoneyRounding};
use agencyops_platform::{access, ApiError, ApiResult, Caller, Services};
use agencyops_store::record::{all, all_items};
use agencyops_store::records::{Client, Milestone, MilestoneStatus, Project};
use agencyops_store::{keys, Index, Query, SkCondition};
use jiff::civil::Date;
use jiff::Span;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::aging::today;
use super::ledger::{self, Need};

/// Days of paid history a client's lateness is learnt from.
pub const HISTORY_DAYS: i32 = 365;
pub const DEFAULT_WEEKS: u32 = 13;
pub const MAX_WEEKS: u32 = 52;

#[derive(Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ForecastParams {
    /// Weeks forecast, starting today (UTC); 13 when absent.
    #[param(minimum = 1, maximum = 52)]
    pub weeks: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    OpenInvoices,
    WorkInProgress,
    Milestones,
    Recurring,
}

/// Money expected from one source, before the scenario dates it.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    pub source: Source,
    pub client_id: String,
    pub currency: Currency,
    /// Exact.
    pub amount: Decimal,
    /// Open invoices: their due date. Others: `None` (dated by terms).
    pub due: Option<Date>,
    pub terms_days: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct WeekCash {
    /// 1 is the week starting today.
    pub week: u32,
    #[schema(value_type = String, format = Date)]
    pub starts_on: Date,
    #[schema(value_type = String, format = Date)]
    pub ends_on: Date,
    #[schema(value_type = String)]
    pub open_invoices: String,
    #[schema(value_type = String)]
    pub work_in_progress: String,
    #[schema(value_type = String)]
    pub milestones: String,
    #[schema(value_type = String)]
    pub recurring: String,
    #[schema(value_type = String)]
    pub total: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct CurrencyForecast {
    pub currency: Currency,
    pub weeks: Vec<WeekCash>,
    /// Expected after the last week.
    #[schema(value_type = String)]
    pub after_window: String,
    /// Not expected at all in this scenario.
    #[schema(value_type = String)]
    pub not_expected: String,
    #[schema(value_type = String)]
    pub total_in_window: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ScenarioForecast {
    #[schema(value_type = String, example = "base")]
    pub scenario: Scenario,
    pub assumptions: Vec<String>,
    pub currencies: Vec<CurrencyForecast>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PaymentHistory {
    /// None for the agency as a whole.
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub invoices_paid: u32,
    /// Mean days from due date to the settling payment (negative: early); one decimal.
    #[schema(value_type = Option<String>)]
    pub average_days_late: Option<String>,
    pub worst_days_late: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ForecastReport {
    #[schema(value_type = String, format = Date)]
    pub starts_on: Date,
    pub weeks: u32,
    pub rounding: MoneyRounding,
    pub scenarios: Vec<ScenarioForecast>,
    /// The history each client's shift comes from (paid invoices settled in the last 365 days).
    pub history: Vec<PaymentHistory>,
    /// Sources this forecast cannot see yet, and why.
    pub not_included: Vec<String>,
}

/// Scheduled retainer and recurring invoices: each period of each schedule
/// that starts by `until` and is not billed yet becomes an invoice on its
/// start (today, for one the daily run has yet to bill), due after the
/// client's terms. One query of the tenant's schedules.
pub async fn scheduled_recurring(
    s: &Services,
    tenant: &str,
    from: Date,
    until: Date,
    terms: impl Fn(&str) -> u32,
) -> ApiResult<Vec<Expected>> {
    let q = Query::new(Index::Table, keys::recurring_schedules(tenant)).limit(500);
    let mut out = Vec::new();
    for sch in all::<agencyops_store::records::RecurringSchedule>(&*s.table, &q).await? {
        let Some(anchor) = crate::recurring::job::anchor_of(&sch) else {
            continue;
        };
        let periods = crate::recurring::plan::due(
            anchor,
            sch.start_on,
            sch.end_on,
            sch.billed_through,
            until,
            crate::recurring::plan::MAX_PERIODS_PER_RUN,
        );
        for p in periods {
            let days = terms(&sch.client_id);
            out.push(Expected {
                source: Source::Recurring,
                client_id: sch.client_id.clone(),
                currency: sch.currency,
                amount: sch.amount,
                due: Some(plus(p.start.max(from), i64::from(days))),
                terms_days: days,
            });
        }
    }
    Ok(out)
}

fn plus(d: Date, n: i64) -> Date {
    d.checked_add(Span::new().days(n)).unwrap_or(d)
}

/// One currency's exact sums: per week per source, after the window, not expected.
type Placed = (Vec<BTreeMap<Source, Decimal>>, Decimal, Decimal);

/// Places every expected amount in its week, per scenario and currency (exact
/// sums, rounded once when shown).
pub fn forecast(
    expected: &[Expected],
    lateness: &BTreeMap<String, Lateness>,
    agency: Lateness,
    start: Date,
    weeks: usize,
) -> Vec<ScenarioForecast> {
    Scenario::ALL
        .iter()
        .map(|sc| {
            let mut by: BTreeMap<Currency, Placed> = BTreeMap::new();
            for e in expected {
                let late = lateness.get(&e.client_id).copied().unwrap_or(agency);
                let when = match e.source {
                    Source::OpenInvoices | Source::Recurring => {
                        expected_for_invoice(e.due, start, late, *sc)
                    }
                    Source::WorkInProgress | Source::Milestones => {
                        Some(expected_for_unbilled(start, e.terms_days, late, *sc))
                    }
                };
                let row = by.entry(e.currency).or_insert_with(|| {
                    (vec![BTreeMap::new(); weeks], Decimal::ZERO, Decimal::ZERO)
                });
                match when.map(|d| slot(start, weeks, d)) {
                    Some(Slot::Week(w)) => *row.0[w].entry(e.source).or_default() += e.amount,
                    Some(Slot::Beyond) => row.1 += e.amount,
                    None => row.2 += e.amount,
                }
            }
            let currencies = by
                .into_iter()
                .map(|(cur, (ws, after, lost))| {
                    let r = |d: Decimal| round_money(d, cur).to_string();
                    let mut in_window = Decimal::ZERO;
                    let weeks = ws
                        .iter()
                        .enumerate()
                        .map(|(i, m)| {
                            let get = |s: Source| m.get(&s).copied().unwrap_or_default();
                            let total: Decimal = m.values().sum();
                            in_window += total;
                            let first = plus(start, i as i64 * 7);
                            WeekCash {
                                week: i as u32 + 1,
                                starts_on: first,
                                ends_on: plus(first, 6),
                                open_invoices: r(get(Source::OpenInvoices)),
                                work_in_progress: r(get(Source::WorkInProgress)),
                                milestones: r(get(Source::Milestones)),
                                recurring: r(get(Source::Recurring)),
                                total: r(total),
                            }
                        })
                        .collect();
                    CurrencyForecast {
                        currency: cur,
                        weeks,
                        after_window: r(after),
                        not_expected: r(lost),
                        total_in_window: r(in_window),
                    }
                })
                .collect();
            ScenarioForecast {
                scenario: *sc,
                assumptions: sc.assumptions(),
                currencies,
            }
        })
        .collect()
}

pub async fn report(s: &Services, caller: &Caller, p: ForecastParams) -> ApiResult<ForecastReport> {
    access::require_reads_reports(caller)?;
    let weeks = p.weeks.unwrap_or(DEFAULT_WEEKS);
    if !(1..=MAX_WEEKS).contains(&weeks) {
        return Err(ApiError::field(
            "query.weeks",
            format!("must be from 1 to {MAX_WEEKS}"),
        ));
    }
    let start = today(s);
    let tenant = caller.tenant.as_str();
    let table = &*s.table;
    let since = plus(start, -i64::from(HISTORY_DAYS));
    let entries = ledger::load(table, tenant, Need::Settlements(since)).await?;

    let clients: BTreeMap<String, Client> = all::<Client>(
        table,
        &Query::new(Index::Table, keys::clients(tenant))
            .sk(SkCondition::BeginsWith(keys::clients_prefix()))
            .limit(500),
    )
    .await?
    .into_iter()
    .map(|c| (c.id.clone(), c))
    .collect();
    let terms = |client: &str| clients.get(client).map_or(30, |c| c.payment_terms_days);

    // Lateness per client, from invoices a payment settled in the window.
    let mut late_days: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for e in &entries {
        if let (Some(paid), Some(due)) = (e.paid_on(), e.invoice.due_date) {
            if paid >= since {
                late_days
                    .entry(e.invoice.client_id.clone())
                    .or_default()
                    .push(days_between(due, paid));
            }
        }
    }
    let all_days: Vec<i64> = late_days.values().flatten().copied().collect();
    let agency = Lateness::from_history(&all_days).unwrap_or_default();
    let lateness: BTreeMap<String, Lateness> = late_days
        .iter()
        .filter_map(|(c, d)| Some((c.clone(), Lateness::from_history(d)?)))
        .collect();

    let mut expected: Vec<Expected> = entries
        .iter()
        .filter(|e| e.invoice.status.is_open() && !e.invoice.balance_due().is_zero())
        .map(|e| Expected {
            source: Source::OpenInvoices,
            client_id: e.invoice.client_id.clone(),
            currency: e.invoice.currency,
            amount: e.invoice.balance_due(),
            due: e.invoice.due_date,
            terms_days: e.invoice.payment_terms_days,
        })
        .collect();

    let projects: BTreeMap<String, Project> = all::<Project>(
        table,
        &Query::new(Index::Gsi1, keys::projects(tenant)).limit(500),
    )
    .await?
    .into_iter()
    .map(|p| (p.id.clone(), p))
    .collect();

    // WIP per project and currency, rounded once as an invoice line total would be.
    let mut wip: BTreeMap<(String, Currency), Decimal> = BTreeMap::new();
    let uq = Query::new(Index::Gsi2, keys::unbilled(tenant)).limit(500);
    for item in all_items(table, &uq).await? {
        if let Some(w) = Work::of_item(item)? {
            *wip.entry((w.project_id, w.currency)).or_default() += w.value;
        }
    }
    for ((project, currency), value) in wip {
        let Some(p) = projects.get(&project) else {
            continue;
        };
        expected.push(Expected {
            source: Source::WorkInProgress,
            client_id: p.client_id.clone(),
            currency,
            amount: round_money(value, currency),
            due: None,
            terms_days: terms(&p.client_id),
        });
    }

    for p in projects.values() {
        let mq = Query::new(Index::Table, keys::project_partition(tenant, &p.id))
            .sk(SkCondition::BeginsWith(keys::milestones_prefix()))
            .limit(500);
        for m in all::<Milestone>(table, &mq).await? {
            if m.status != MilestoneStatus::Reached || m.invoice_id.is_some() {
                continue;
            }
            let Some(amount) = m.amount.filter(|a| !a.is_zero()) else {
                continue;
            };
            expected.push(Expected {
                source: Source::Milestones,
                client_id: p.client_id.clone(),
                currency: m.currency,
                amount,
                due: None,
                terms_days: terms(&p.client_id),
            });
        }
    }

    let until = plus(start, i64::from(weeks) * 7 - 1);
    let not_included = Vec::new();
    expected.extend(scheduled_recurring(s, tenant, start, until, &terms).await?);

    let history_row = |client: Option<&String>, days: &[i64]| PaymentHistory {
        client_id: client.cloned(),
        client_name: client.and_then(|c| clients.get(c)).map(|c| c.name.clone()),
        invoices_paid: days.len() as u32,
        average_days_late: agencyops_domain::receivables::pay::mean(days)
            .map(|d| round_days(d).to_string()),
        worst_days_late: days.iter().copied().max(),
    };
    let mut history: Vec<PaymentHistory> = late_days
        .iter()
        .map(|(c, d)| history_row(Some(c), d))
        .collect();
    history.push(history_row(None, &all_days));

    Ok(ForecastReport {
        starts_on: start,
        weeks,
        rounding: MoneyRounding::HalfUp,
        scenarios: forecast(&expected, &lateness, agency, start, weeks as usize),
        history,
        not_included,
    })
}
