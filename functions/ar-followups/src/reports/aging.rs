//! `GET /v1/reports/ar-aging?as_of=DATE`: what each client owed at the end of
//! a day, per currency, by how far past due (see
//! `agencyops_domain::receivables::aging`), with totals per currency. As of a
//! past day only what had happened by then counts (see `receivables::as_of`).

use std::collections::BTreeMap;

use agencyops_domain::receivables::{round_money, Bucket, Buckets};
use agencyops_domain::{Currency, MoneyRounding};
use agencyops_platform::{access, ApiResult, Caller, Services};
use agencyops_store::record::all;
use agencyops_store::records::{Client, SnapshotInvoice};
use agencyops_store::{keys, Index, Query, SkCondition, StoreResult, Table};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ledger::{self, Entry, Need};

#[derive(Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AgingParams {
    /// The day whose end the balances are taken at; today (UTC) when absent.
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
}

/// Balances per bucket, in one currency, rounded to its minor unit.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AgingFigures {
    pub currency: Currency,
    /// Not yet past due (or no due date).
    #[schema(value_type = String, example = "1200.00")]
    pub current: String,
    #[schema(value_type = String)]
    pub days_1_30: String,
    #[schema(value_type = String)]
    pub days_31_60: String,
    #[schema(value_type = String)]
    pub days_61_90: String,
    #[schema(value_type = String)]
    pub days_over_90: String,
    #[schema(value_type = String)]
    pub total: String,
}

impl AgingFigures {
    pub fn of(currency: Currency, b: &Buckets) -> AgingFigures {
        let r = |d: Decimal| round_money(d, currency).to_string();
        AgingFigures {
            currency,
            current: r(b.current),
            days_1_30: r(b.days_1_30),
            days_31_60: r(b.days_31_60),
            days_61_90: r(b.days_61_90),
            days_over_90: r(b.days_over_90),
            total: r(b.total()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ClientAging {
    pub client_id: String,
    /// None if the client record is gone.
    pub client_name: Option<String>,
    #[serde(flatten)]
    pub figures: AgingFigures,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AgingReport {
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    /// How shown amounts were rounded from the exact sums.
    pub rounding: MoneyRounding,
    /// One row per client and currency with anything owed, by client id.
    pub clients: Vec<ClientAging>,
    /// One row per currency; currencies are never added together.
    pub totals: Vec<AgingFigures>,
}

/// The exact aging of a day, from loaded invoices.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Aging {
    pub clients: BTreeMap<(String, Currency), Buckets>,
    pub totals: BTreeMap<Currency, Buckets>,
    /// Every invoice with a balance, in load order.
    pub invoices: Vec<SnapshotInvoice>,
}

impl Aging {
    pub fn of(entries: &[Entry], as_of: Date) -> Aging {
        let mut a = Aging::default();
        for e in entries {
            let Some(balance) = e.balance_on(as_of).filter(|b| !b.is_zero()) else {
                continue;
            };
            let inv = &e.invoice;
            let bucket = Bucket::on(inv.due_date, as_of);
            a.clients
                .entry((inv.client_id.clone(), inv.currency))
                .or_default()
                .add(bucket, balance);
            a.totals
                .entry(inv.currency)
                .or_default()
                .add(bucket, balance);
            a.invoices.push(SnapshotInvoice {
                id: inv.id.clone(),
                number: inv.number.clone(),
                client_id: inv.client_id.clone(),
                currency: inv.currency,
                balance,
                due_date: inv.due_date,
                bucket,
            });
        }
        a
    }

    pub fn report(&self, as_of: Date, names: &BTreeMap<String, String>) -> AgingReport {
        AgingReport {
            as_of,
            rounding: MoneyRounding::HalfUp,
            clients: self
                .clients
                .iter()
                .map(|((client, cur), b)| ClientAging {
                    client_id: client.clone(),
                    client_name: names.get(client).cloned(),
                    figures: AgingFigures::of(*cur, b),
                })
                .collect(),
            totals: self
                .totals
                .iter()
                .map(|(cur, b)| AgingFigures::of(*cur, b))
                .collect(),
        }
    }
}

/// Client names by id: one query of the clients partition (paged).
pub async fn client_names(
    table: &dyn Table,
    tenant: &str,
) -> StoreResult<BTreeMap<String, String>> {
    let q = Query::new(Index::Table, keys::clients(tenant))
        .sk(SkCondition::BeginsWith(keys::clients_prefix()))
        .limit(500);
    Ok(all::<Client>(table, &q)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

pub fn today(s: &Services) -> Date {
    ledger::day_of(s.clock.now())
}

pub async fn report(s: &Services, caller: &Caller, p: AgingParams) -> ApiResult<AgingReport> {
    access::require_reads_reports(caller)?;
    let as_of = p.as_of.unwrap_or_else(|| today(s));
    let tenant = caller.tenant.as_str();
    let entries = ledger::load(&*s.table, tenant, Need::BalancesFrom(as_of)).await?;
    let names = client_names(&*s.table, tenant).await?;
    Ok(Aging::of(&entries, as_of).report(as_of, &names))
}
