//! The tenant's receivables as the reports read them: every invoice (GSI1
//! `T#t#INVOICES`, pages of [`PAGE`]) and, only where an answer depends on it,
//! the invoice's partition (its payments, credit notes and activity: one query
//! each).
//!
//! Cost for n invoices: ceil(n / [`PAGE`]) index pages, plus one partition
//! query per invoice the caller's [`Need`] names. An invoice with nothing paid
//! or credited that has not changed since the day asked about needs none: its
//! balance that day is its total (or nothing, if it was void or written off by
//! then), so an as-of report over untouched open invoices costs only the pages.

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_domain::receivables::{Ending, InvoiceFacts, Movement, MovementKind};
use agencyops_store::record::{all, all_items, from_item, is};
use agencyops_store::records::{ActivityKind, CreditNote, Invoice, InvoiceActivity, Payment};
use agencyops_store::{keys, Index, Query, StoreResult, Table};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Invoices per index page.
pub const PAGE: usize = 200;

/// The UTC day of a stored instant (records keep instants; reports speak days).
pub fn day_of(ts: Timestamp) -> Date {
    ts.to_zoned(TimeZone::UTC).date()
}

/// One issued invoice with what its balance depends on.
pub struct Entry {
    pub invoice: Invoice,
    pub facts: InvoiceFacts,
    /// Whether the partition was read (payments, credits and activity are known).
    pub detailed: bool,
    /// Reminder activity on the invoice (only when detailed).
    pub reminders: Vec<InvoiceActivity>,
}

/// Which invoices' partitions a report must read.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// Balances as of `day` (and any later day): read what money touched or
    /// what changed after `day`.
    BalancesFrom(Date),
    /// The above, plus every paid invoice settled on or after `since` (for
    /// days to pay and days late).
    BalancesAndSettlements { from: Date, since: Date },
    /// Only paid invoices settled on or after `since` (today's balances are on
    /// the invoices themselves).
    Settlements(Date),
    /// Every open invoice, for its activity (the Monday digest), besides balances.
    BalancesAndActivity(Date),
}

impl Need {
    fn wants(&self, inv: &Invoice) -> bool {
        let touched = |day: Date| {
            !inv.amount_paid.is_zero()
                || !inv.amount_credited.is_zero()
                || day_of(inv.updated_at) > day
        };
        match *self {
            Need::BalancesFrom(day) => touched(day),
            Need::BalancesAndSettlements { from, since } => {
                touched(from)
                    || (inv.status == InvoiceStatus::Paid && day_of(inv.updated_at) >= since)
            }
            Need::Settlements(since) => {
                inv.status == InvoiceStatus::Paid && day_of(inv.updated_at) >= since
            }
            Need::BalancesAndActivity(day) => touched(day) || inv.status.is_open(),
        }
    }
}

/// Where a terminal invoice ended: void and written-off invoices change no
/// more, so their last change is the day they ended.
fn ending(inv: &Invoice) -> Option<Ending> {
    match inv.status {
        InvoiceStatus::Void => Some(Ending::Void(day_of(inv.updated_at))),
        InvoiceStatus::Uncollectible => Some(Ending::WrittenOff(day_of(inv.updated_at))),
        _ => None,
    }
}

/// Every issued invoice of the tenant, with partitions read as `need` says.
pub async fn load(table: &dyn Table, tenant: &str, need: Need) -> StoreResult<Vec<Entry>> {
    let q = Query::new(Index::Gsi1, keys::invoices(tenant)).limit(PAGE);
    let mut out = Vec::new();
    for invoice in all::<Invoice>(table, &q).await? {
        let Some(issue_date) = invoice.issue_date.filter(|_| !invoice.status.is_draft()) else {
            continue;
        };
        let mut facts = InvoiceFacts {
            issue_date,
            total: invoice.total,
            movements: Vec::new(),
            ending: ending(&invoice),
        };
        let mut reminders = Vec::new();
        let detailed = need.wants(&invoice);
        if detailed {
            let pq =
                Query::new(Index::Table, keys::invoice_partition(tenant, &invoice.id)).limit(500);
            for item in all_items(table, &pq).await? {
                if is::<Payment>(&item) {
                    let p: Payment = from_item(item)?;
                    facts.movements.push(Movement {
                        kind: MovementKind::Payment,
                        date: p.date,
                        amount: p.amount,
                        undone_on: p.reversed_at.map(day_of),
                    });
                } else if is::<CreditNote>(&item) {
                    let c: CreditNote = from_item(item)?;
                    facts.movements.push(Movement {
                        kind: MovementKind::CreditNote,
                        date: c.issue_date,
                        amount: c.total,
                        undone_on: None,
                    });
                } else if is::<InvoiceActivity>(&item) {
                    let a: InvoiceActivity = from_item(item)?;
                    if a.activity == ActivityKind::Reminder {
                        reminders.push(a);
                    }
                }
            }
        }
        out.push(Entry {
            invoice,
            facts,
            detailed,
            reminders,
        });
    }
    Ok(out)
}

impl Entry {
    /// The balance at the end of `day`, `None` when it was not receivable.
    /// Under the balance needs, an invoice whose partition was not read had
    /// nothing paid or credited, so its facts are complete; under
    /// [`Need::Settlements`] only the invoice's own (today's) figures are.
    pub fn balance_on(&self, day: Date) -> Option<rust_decimal::Decimal> {
        self.facts.balance_on(day)
    }

    /// The day a payment settled it, if one did.
    pub fn paid_on(&self) -> Option<Date> {
        match self.facts.settled()? {
            (day, MovementKind::Payment) => Some(day),
            _ => None,
        }
    }
}
