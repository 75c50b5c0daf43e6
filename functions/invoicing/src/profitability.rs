//! `GET /v1/reports/profitability?from=&to=`: per project and client, per
//! currency, what the invoices issued in the period billed (net of their
//! discount, less credit notes), what the work they billed cost (time at the
//! person's cost rate, expenses at their amount), the margin and margin %, and
//! write-downs and write-ups apart. Void invoices count for nothing.
//! Each figure is summed exactly and rounded to the currency's minor unit once.

use std::collections::BTreeMap;

use agencyops_domain::invoice::{allocate, InvoiceStatus};
use agencyops_domain::{Currency, Money, MoneyRounding};
use agencyops_platform::{access, ApiError, ApiResult, Caller, Services};
use agencyops_store::record::{all_items, all_up_to, from_item, is};
use agencyops_store::records::{ClaimBatch, CreditNote, Invoice, WorkKind};
use agencyops_store::{keys, Index, Query};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const MAX_INVOICES: usize = 5000;

#[derive(Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProfitabilityParams {
    /// First issue date counted (inclusive).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Last issue date counted (inclusive).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
}

#[derive(Clone, Debug, Default)]
struct Sums {
    revenue: Decimal,
    time_cost: Decimal,
    expenses: Decimal,
    write_downs: Decimal,
    write_ups: Decimal,
    minutes: u64,
}

#[derive(Serialize, ToSchema)]
pub struct Profit {
    pub currency: Currency,
    /// Invoiced, net of discounts and credit notes, before tax.
    #[schema(value_type = String)]
    pub invoiced: String,
    /// The billed time at the people's cost rates.
    #[schema(value_type = String)]
    pub time_cost: String,
    /// Re-billed expenses at what they cost.
    #[schema(value_type = String)]
    pub expenses: String,
    #[schema(value_type = String)]
    pub margin: String,
    /// Margin over invoiced, one decimal; none when nothing was invoiced.
    #[schema(value_type = Option<String>)]
    pub margin_percent: Option<String>,
    /// Written off the lines before billing (a positive figure).
    #[schema(value_type = String)]
    pub write_downs: String,
    #[schema(value_type = String)]
    pub write_ups: String,
    #[schema(value_type = String)]
    pub hours_billed: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectProfit {
    /// None for lines that bill no single project (manual lines, credits).
    pub project_id: Option<String>,
    pub client_id: String,
    #[serde(flatten)]
    pub figures: Profit,
}

#[derive(Serialize, ToSchema)]
pub struct ClientProfit {
    pub client_id: String,
    #[serde(flatten)]
    pub figures: Profit,
}

#[derive(Serialize, ToSchema)]
pub struct ProfitabilityReport {
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
    pub rounding: MoneyRounding,
    pub projects: Vec<ProjectProfit>,
    pub clients: Vec<ClientProfit>,
    /// One row per currency.
    pub totals: Vec<Profit>,
}

fn figures(s: &Sums, currency: Currency) -> Profit {
    let r = |d: Decimal| {
        let mut x = Money::rounded(d, currency, MoneyRounding::HalfUp).amount;
        x.rescale(currency.minor_units());
        x.to_string()
    };
    let margin = s.revenue - s.time_cost - s.expenses;
    Profit {
        currency,
        invoiced: r(s.revenue),
        time_cost: r(s.time_cost),
        expenses: r(s.expenses),
        margin: r(margin),
        margin_percent: (!s.revenue.is_zero()).then(|| {
            (margin * Decimal::ONE_HUNDRED / s.revenue)
                .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .to_string()
        }),
        write_downs: r(s.write_downs),
        write_ups: r(s.write_ups),
        hours_billed: agencyops_domain::invoice::hours(s.minutes)
            .normalize()
            .to_string(),
    }
}

type ProjectKey = (String, Option<String>, Currency);

pub async fn report(
    s: &Services,
    caller: &Caller,
    p: ProfitabilityParams,
) -> ApiResult<ProfitabilityReport> {
    access::require_reads_reports(caller)?;
    if let (Some(f), Some(t)) = (p.from, p.to) {
        if f > t {
            return Err(ApiError::field("query.to", "must not be before from"));
        }
    }
    let tenant = caller.tenant.as_str();
    let in_period = |d: Option<Date>| {
        d.is_some_and(|d| p.from.is_none_or(|f| d >= f) && p.to.is_none_or(|t| d <= t))
    };
    let q = Query::new(Index::Gsi1, keys::invoices(tenant)).limit(200);
    let invoices: Vec<Invoice> = all_up_to::<Invoice>(&*s.table, &q, MAX_INVOICES)
        .await?
        .into_iter()
        .filter(|i| {
            !i.status.is_draft() && i.status != InvoiceStatus::Void && in_period(i.issue_date)
        })
        .collect();
    let mut by_project: BTreeMap<ProjectKey, Sums> = BTreeMap::new();
    for inv in &invoices {
        let shares = allocate(
            inv.discount_total,
            &inv.lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
            inv.currency,
        );
        for (line, share) in inv.lines.iter().zip(shares) {
            let sums = by_project
                .entry((inv.client_id.clone(), line.project_id.clone(), inv.currency))
                .or_default();
            sums.revenue += line.amount - share;
            if line.adjustment.is_sign_negative() {
                sums.write_downs -= line.adjustment;
            } else {
                sums.write_ups += line.adjustment;
            }
            sums.minutes += line.minutes.unwrap_or(0);
        }
        let pq = Query::new(Index::Table, keys::invoice_partition(tenant, &inv.id)).limit(500);
        for item in all_items(&*s.table, &pq).await? {
            if is::<ClaimBatch>(&item) {
                let batch: ClaimBatch = from_item(item)?;
                if batch.released {
                    continue;
                }
                for w in &batch.work {
                    let sums = by_project
                        .entry((
                            inv.client_id.clone(),
                            Some(w.project_id.clone()),
                            inv.currency,
                        ))
                        .or_default();
                    match w.kind {
                        WorkKind::Time => sums.time_cost += w.cost.unwrap_or_default(),
                        WorkKind::Expense => sums.expenses += w.cost.unwrap_or_default(),
                    }
                }
            } else if is::<CreditNote>(&item) {
                let note: CreditNote = from_item(item)?;
                if in_period(Some(note.issue_date)) {
                    by_project
                        .entry((inv.client_id.clone(), None, inv.currency))
                        .or_default()
                        .revenue -= note.line_total;
                }
            }
        }
    }
    let mut by_client: BTreeMap<(String, Currency), Sums> = BTreeMap::new();
    let mut totals: BTreeMap<Currency, Sums> = BTreeMap::new();
    for ((client, _, currency), sums) in &by_project {
        for target in [
            by_client.entry((client.clone(), *currency)).or_default(),
            totals.entry(*currency).or_default(),
        ] {
            target.revenue += sums.revenue;
            target.time_cost += sums.time_cost;
            target.expenses += sums.expenses;
            target.write_downs += sums.write_downs;
            target.write_ups += sums.write_ups;
            target.minutes += sums.minutes;
        }
    }
    Ok(ProfitabilityReport {
        from: p.from,
        to: p.to,
        rounding: MoneyRounding::HalfUp,
        projects: by_project
            .iter()
            .map(|((client, project, cur), sums)| ProjectProfit {
                project_id: project.clone(),
                client_id: client.clone(),
                figures: figures(sums, *cur),
            })
            .collect(),
        clients: by_client
            .iter()
            .map(|((client, cur), sums)| ClientProfit {
                client_id: client.clone(),
                figures: figures(sums, *cur),
            })
            .collect(),
        totals: totals
            .iter()
            .map(|(cur, sums)| figures(sums, *cur))
            .collect(),
    })
}
