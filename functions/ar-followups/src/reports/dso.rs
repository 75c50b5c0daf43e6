//! `GET /v1/reports/dso?from=&to=`: days sales outstanding over a period, per
//! client and overall, per currency, by each method of
//! `agencyops_domain::receivables::dso` (every figure names its `method`), and
//! the average days to pay (issue to the payment that settled the invoice).
//!
//! Credit sales are the totals of the invoices issued in a period, void ones
//! excluded. Ending AR (and opening AR, the day before `from`) is read from the
//! aging job's snapshot of that day where there is one, else computed as of
//! that day; the response says which.

use std::collections::BTreeMap;

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_domain::receivables::dso::{self, SalesPeriod};
use agencyops_domain::receivables::pay::{days_between, mean};
use agencyops_domain::receivables::{round_days, round_money, Buckets};
use agencyops_domain::{Currency, MoneyRounding};
use agencyops_platform::{access, ApiError, ApiResult, Caller, Services};
use agencyops_store::record::load;
use agencyops_store::records::ArSnapshot;
use agencyops_store::{keys, StoreResult, Table};
use jiff::civil::Date;
use jiff::{Span, ToSpan};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::aging::{client_names, today, Aging};
use super::ledger::{self, Entry, Need};

/// Longest period one request covers (two years), so one read stays bounded.
pub const MAX_PERIOD_DAYS: i32 = 731;
/// Months of sales history the countback walks back through at most.
pub const COUNTBACK_MONTHS: i32 = 24;
/// Days of the period when `from` is not given.
pub const DEFAULT_PERIOD_DAYS: i32 = 90;

#[derive(Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DsoParams {
    /// First day of the period; 90 days ending on `to` when absent. At most 731 days before `to`.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Last day of the period (ending AR is taken at its end); today (UTC) when absent.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DsoMethod {
    Simple,
    AverageAr,
    Countback,
}

impl DsoMethod {
    const ALL: [DsoMethod; 3] = [
        DsoMethod::Countback,
        DsoMethod::Simple,
        DsoMethod::AverageAr,
    ];
    fn describe(self) -> &'static str {
        match self {
            DsoMethod::Simple => "ending AR / credit sales of the period x days in the period",
            DsoMethod::AverageAr => {
                "(opening AR + ending AR) / 2 / credit sales of the period x days in the period"
            }
            DsoMethod::Countback => {
                "walk back month by month from the end of the period through credit sales until the ending AR is used up: the days of each month used whole plus the used share of the last (AR 212k against monthly sales 100k, 80k, 70k = 30 + 30 + 32/70 x 30 = 73.7 days)"
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct MethodNote {
    pub method: DsoMethod,
    pub description: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct MethodDays {
    pub method: DsoMethod,
    /// Days, one decimal; none without credit sales to measure against.
    #[schema(value_type = Option<String>, example = "73.7")]
    pub days: Option<String>,
    /// Countback only: the sales history ran out before the AR did, so the
    /// days are a lower bound.
    pub lower_bound: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct DsoFigures {
    pub currency: Currency,
    #[schema(value_type = String)]
    pub credit_sales: String,
    #[schema(value_type = String)]
    pub opening_ar: String,
    #[schema(value_type = String)]
    pub ending_ar: String,
    pub dso: Vec<MethodDays>,
    /// Mean days from issue to the payment that settled it, over the
    /// invoices settled by a payment in the period; one decimal.
    #[schema(value_type = Option<String>)]
    pub average_days_to_pay: Option<String>,
    pub invoices_paid: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ClientDso {
    pub client_id: String,
    pub client_name: Option<String>,
    #[serde(flatten)]
    pub figures: DsoFigures,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArSource {
    /// The aging job's snapshot of that day.
    Snapshot,
    /// Computed from the invoices as of that day.
    Computed,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct DsoReport {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub days: u32,
    pub rounding: MoneyRounding,
    /// What each `method` computes.
    pub methods: Vec<MethodNote>,
    pub ending_ar_source: ArSource,
    pub opening_ar_source: ArSource,
    pub clients: Vec<ClientDso>,
    /// One row per currency.
    pub totals: Vec<DsoFigures>,
}

/// Exact sums behind one row.
#[derive(Clone, Debug, Default)]
struct Sums {
    sales: Decimal,
    opening: Decimal,
    ending: Decimal,
    /// Sales of each countback month, most recent first.
    months: Vec<SalesPeriod>,
    days_to_pay: Vec<i64>,
}

fn plus_days(d: Date, n: i32) -> Date {
    d.checked_add(Span::new().days(n)).unwrap_or(d)
}

/// The countback months ending on `to`: (first day, last day), most recent first.
fn months(to: Date) -> Vec<(Date, Date)> {
    (0..COUNTBACK_MONTHS)
        .filter_map(|k| {
            let end = to.checked_sub(k.months()).ok()?;
            let start = plus_days(to.checked_sub((k + 1).months()).ok()?, 1);
            Some((start, end))
        })
        .collect()
}

type ArFigures = (
    BTreeMap<(String, Currency), Decimal>,
    BTreeMap<Currency, Decimal>,
    ArSource,
);

/// AR by (client, currency) and by currency at the end of `day`, from the
/// aging job's snapshot of that day (one read), if it kept one.
async fn snapshot_ar(table: &dyn Table, tenant: &str, day: Date) -> StoreResult<Option<ArFigures>> {
    let Some(snap) =
        load::<ArSnapshot>(table, &keys::ar_snapshot(tenant, &day.to_string())).await?
    else {
        return Ok(None);
    };
    let clients = snap
        .clients
        .iter()
        .map(|c| {
            (
                (c.client_id.clone(), c.currency),
                Buckets::from(c.buckets).total(),
            )
        })
        .collect();
    let totals = snap
        .totals
        .iter()
        .map(|t| (t.currency, Buckets::from(t.buckets).total()))
        .collect();
    Ok(Some((clients, totals, ArSource::Snapshot)))
}

/// AR at the end of `day` computed from the invoices.
fn computed_ar(entries: &[Entry], day: Date) -> ArFigures {
    let a = Aging::of(entries, day);
    (
        a.clients
            .iter()
            .map(|(k, b)| (k.clone(), b.total()))
            .collect(),
        a.totals.iter().map(|(k, b)| (*k, b.total())).collect(),
        ArSource::Computed,
    )
}

fn figures(currency: Currency, s: &Sums, days: u32) -> DsoFigures {
    let show = |d: Option<Decimal>| d.map(|d| round_days(d).to_string());
    let cb = dso::countback(s.ending, &s.months);
    let has_sales = s.months.iter().any(|m| m.sales > Decimal::ZERO);
    let dso = DsoMethod::ALL
        .iter()
        .map(|m| match m {
            DsoMethod::Simple => MethodDays {
                method: *m,
                days: show(dso::simple(s.ending, s.sales, days)),
                lower_bound: false,
            },
            DsoMethod::AverageAr => MethodDays {
                method: *m,
                days: show(dso::average_ar(s.opening, s.ending, s.sales, days)),
                lower_bound: false,
            },
            DsoMethod::Countback => MethodDays {
                method: *m,
                days: show((has_sales || s.ending.is_zero()).then_some(cb.days)),
                lower_bound: cb.exhausted,
            },
        })
        .collect();
    DsoFigures {
        currency,
        credit_sales: round_money(s.sales, currency).to_string(),
        opening_ar: round_money(s.opening, currency).to_string(),
        ending_ar: round_money(s.ending, currency).to_string(),
        dso,
        average_days_to_pay: show(mean(&s.days_to_pay)),
        invoices_paid: s.days_to_pay.len() as u32,
    }
}

pub async fn report(s: &Services, caller: &Caller, p: DsoParams) -> ApiResult<DsoReport> {
    access::require_reads_reports(caller)?;
    let to = p.to.unwrap_or_else(|| today(s));
    let from = p
        .from
        .unwrap_or_else(|| plus_days(to, 1 - DEFAULT_PERIOD_DAYS));
    if from > to {
        return Err(ApiError::field("query.from", "must not be after to"));
    }
    let span = (to - from).get_days() + 1;
    if span > MAX_PERIOD_DAYS {
        return Err(ApiError::field(
            "query.from",
            format!("the period may cover at most {MAX_PERIOD_DAYS} days"),
        ));
    }
    let days = span as u32;
    let tenant = caller.tenant.as_str();
    let opening_day = plus_days(from, -1);
    let table = &*s.table;
    let ending = snapshot_ar(table, tenant, to).await?;
    let opening = snapshot_ar(table, tenant, opening_day).await?;
    // With both snapshots, only the invoices paid in the period need their
    // partitions (for days to pay); otherwise balances are computed too.
    let need = if ending.is_some() && opening.is_some() {
        Need::Settlements(from)
    } else {
        Need::BalancesAndSettlements {
            from: opening_day,
            since: from,
        }
    };
    let entries = ledger::load(table, tenant, need).await?;
    let (end_c, end_t, ending_ar_source) = ending.unwrap_or_else(|| computed_ar(&entries, to));
    let (open_c, open_t, opening_ar_source) =
        opening.unwrap_or_else(|| computed_ar(&entries, opening_day));
    let windows = months(to);

    let mut clients: BTreeMap<(String, Currency), Sums> = BTreeMap::new();
    let mut totals: BTreeMap<Currency, Sums> = BTreeMap::new();
    let blank = || Sums {
        months: windows
            .iter()
            .map(|(a, b)| SalesPeriod {
                sales: Decimal::ZERO,
                days: ((*b - *a).get_days() + 1) as u32,
            })
            .collect(),
        ..Sums::default()
    };
    for e in &entries {
        let inv = &e.invoice;
        if inv.status == InvoiceStatus::Void {
            continue;
        }
        let issued = e.facts.issue_date;
        let paid = e
            .paid_on()
            .filter(|d| *d >= from && *d <= to)
            .map(|d| days_between(issued, d));
        for sums in [
            clients
                .entry((inv.client_id.clone(), inv.currency))
                .or_insert_with(blank),
            totals.entry(inv.currency).or_insert_with(blank),
        ] {
            if issued >= from && issued <= to {
                sums.sales += inv.total;
            }
            if let Some(i) = windows
                .iter()
                .position(|(a, b)| issued >= *a && issued <= *b)
            {
                sums.months[i].sales += inv.total;
            }
            sums.days_to_pay.extend(paid);
        }
    }
    for (k, v) in &end_c {
        clients.entry(k.clone()).or_insert_with(blank).ending = *v;
    }
    for (k, v) in &open_c {
        clients.entry(k.clone()).or_insert_with(blank).opening = *v;
    }
    for (k, v) in &end_t {
        totals.entry(*k).or_insert_with(blank).ending = *v;
    }
    for (k, v) in &open_t {
        totals.entry(*k).or_insert_with(blank).opening = *v;
    }
    let names = client_names(&*s.table, tenant).await?;
    Ok(DsoReport {
        from,
        to,
        days,
        rounding: MoneyRounding::HalfUp,
        methods: DsoMethod::ALL
            .iter()
            .map(|m| MethodNote {
                method: *m,
                description: m.describe(),
            })
            .collect(),
        ending_ar_source,
        opening_ar_source,
        clients: clients
            .iter()
            .filter(|(_, sums)| {
                !(sums.sales.is_zero()
                    && sums.opening.is_zero()
                    && sums.ending.is_zero()
                    && sums.days_to_pay.is_empty())
            })
            .map(|((c, cur), sums)| ClientDso {
                client_id: c.clone(),
                client_name: names.get(c).cloned(),
                figures: figures(*cur, sums, days),
            })
            .collect(),
        totals: totals
            .iter()
            .map(|(cur, sums)| figures(*cur, sums, days))
            .collect(),
    })
}
