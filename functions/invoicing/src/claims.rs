//! Claiming work for an invoice and handing it back. A claim rewrites each
//! entry or expense as invoiced (under the version it was read at) in the same
//! transaction that writes the batch naming it, so work is on an invoice
//! exactly when a batch says so (Kimai #2917 marked time exported although
//! saving the invoice failed). Releasing reverses both in one transaction per
//! batch (Kimai #3526: cancelling must release the time).

use std::collections::{BTreeSet, HashMap};

use agencyops_domain::rounding::TimeRounding;
use agencyops_domain::timesheet::WorkStatus;
use agencyops_platform::{ApiError, ApiResult, Fails, Services, Tx, TxError};
use agencyops_store::record::{self, all_items, from_item, is, Record};
use agencyops_store::records::{
    ClaimBatch, ClaimedWork, Expense, Invoice, Project, TimeEntry, WorkKind, WorkSelection,
};
use agencyops_store::{keys, Index, Item, Key, Query, SkCondition, StoreError, Write};
use jiff::civil::Date;
use jiff::Timestamp;

/// Work items per claim transaction: 99 entries or expenses and their batch.
pub const CLAIMS_PER_BATCH: usize = 99;
/// Attempts at one batch when other writers take some of its work meanwhile.
const ATTEMPTS: usize = 5;

/// An entry or expense as read, ready to be claimed. Serialisable so a
/// draft's POST can hand what it read to the builder.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "work", content = "record", rename_all = "snake_case")]
pub enum Work {
    Time(Box<TimeEntry>),
    Expense(Box<Expense>),
}

impl Work {
    pub fn id(&self) -> &str {
        match self {
            Work::Time(e) => &e.id,
            Work::Expense(x) => &x.id,
        }
    }
    pub fn key(&self, tenant: &str) -> Key {
        match self {
            Work::Time(e) => e.key(tenant),
            Work::Expense(x) => x.key(tenant),
        }
    }
    fn is_unbilled(&self) -> bool {
        match self {
            Work::Time(e) => e.is_unbilled(),
            Work::Expense(x) => x.is_unbilled(),
        }
    }
    fn date(&self) -> Date {
        match self {
            Work::Time(e) => e.date,
            Work::Expense(x) => x.date,
        }
    }
    fn of_item(item: Item) -> ApiResult<Option<Work>> {
        Ok(if is::<TimeEntry>(&item) {
            Some(Work::Time(Box::new(from_item(item)?)))
        } else if is::<Expense>(&item) {
            Some(Work::Expense(Box::new(from_item(item)?)))
        } else {
            None
        })
    }

    /// What the invoice keeps of it (its line is assigned by the grouping).
    pub fn claimed(&self, tenant: &str, rounding: Option<TimeRounding>) -> ClaimedWork {
        let key = self.key(tenant);
        match self {
            Work::Time(e) => {
                let a = e.approval.as_ref();
                ClaimedWork {
                    kind: WorkKind::Time,
                    id: e.id.clone(),
                    pk: key.pk,
                    sk: key.sk,
                    line_id: String::new(),
                    project_id: e.project_id.clone(),
                    person_id: e.person_id.clone(),
                    task_id: e.task_id.clone(),
                    date: e.date,
                    note: e.note.clone(),
                    minutes: Some(e.minutes),
                    billed_minutes: Some(a.map(|a| a.billed_minutes).unwrap_or(e.minutes)),
                    bill_rate: a.and_then(|a| a.bill_rate),
                    value: a.map(|a| a.value).unwrap_or_default(),
                    cost: a.and_then(|a| a.cost_rate).map(|r| {
                        r * rust_decimal::Decimal::from(e.minutes) / rust_decimal::Decimal::from(60)
                    }),
                    category: None,
                    has_receipt: false,
                    rounding,
                }
            }
            Work::Expense(x) => ClaimedWork {
                kind: WorkKind::Expense,
                id: x.id.clone(),
                pk: key.pk,
                sk: key.sk,
                line_id: String::new(),
                project_id: x.project_id.clone(),
                person_id: x.person_id.clone(),
                task_id: None,
                date: x.date,
                note: x.note.clone(),
                minutes: None,
                billed_minutes: None,
                bill_rate: None,
                value: x
                    .approval
                    .as_ref()
                    .map(|a| a.billed_amount)
                    .unwrap_or(x.amount),
                cost: Some(x.amount),
                category: Some(x.category.clone()),
                has_receipt: x.receipt.is_some(),
                rounding: None,
            },
        }
    }

    /// The work marked as on `invoice`, or (None) back in WIP.
    fn with_invoice(
        &self,
        tenant: &str,
        invoice: Option<&str>,
        now: Timestamp,
    ) -> ApiResult<Write> {
        let status = if invoice.is_some() {
            WorkStatus::Invoiced
        } else {
            WorkStatus::Approved
        };
        match self {
            Work::Time(e) => {
                let mut next = (**e).clone();
                next.status = status;
                next.invoice_id = invoice.map(str::to_owned);
                agencyops_store::record::bump(&mut next, now);
                Ok(record::replace(tenant, &next, e.version)?)
            }
            Work::Expense(x) => {
                let mut next = (**x).clone();
                next.status = status;
                next.invoice_id = invoice.map(str::to_owned);
                agencyops_store::record::bump(&mut next, now);
                Ok(record::replace(tenant, &next, x.version)?)
            }
        }
    }
}

/// Approved, billable, unbilled work of `projects` dated in the selection, in
/// the invoice's currency (one query per project on the unbilled index).
pub async fn unbilled(
    s: &Services,
    tenant: &str,
    projects: &[Project],
    selection: &WorkSelection,
    currency: agencyops_domain::Currency,
) -> ApiResult<Vec<Work>> {
    let mut out = Vec::new();
    for p in projects {
        let q = Query::new(Index::Gsi2, keys::unbilled(tenant))
            .sk(SkCondition::BeginsWith(keys::unbilled_project_prefix(
                &p.id,
            )))
            .limit(1000);
        for item in all_items(&*s.table, &q).await? {
            let Some(w) = Work::of_item(item)? else {
                continue;
            };
            let in_period = selection.from.is_none_or(|f| w.date() >= f)
                && selection.to.is_none_or(|t| w.date() <= t);
            let same_currency = match &w {
                Work::Time(e) => e.approval.as_ref().is_some_and(|a| a.currency == currency),
                Work::Expense(x) => x.currency == currency,
            };
            if w.is_unbilled() && in_period && same_currency {
                out.push(w);
            }
        }
    }
    Ok(out)
}

/// The work as stored now (strongly consistent), still unbilled.
async fn reread(s: &Services, tenant: &str, work: &[Work]) -> ApiResult<Vec<Work>> {
    let keys: Vec<Key> = work.iter().map(|w| w.key(tenant)).collect();
    let mut out = Vec::new();
    for item in s.table.batch_get(&keys).await? {
        if let Some(w) = Work::of_item(item)? {
            if w.is_unbilled() {
                out.push(w);
            }
        }
    }
    Ok(out)
}

/// What a failed write of a claiming transaction means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimFails {
    /// A piece of work was taken or changed meanwhile: read it again, drop
    /// what is no longer unbilled, and try the rest.
    Work,
    /// Something else the draft relies on changed (a milestone, the batch
    /// number another builder took): the caller retries from the top.
    Other,
}

/// Adds the writes that put `work` on `invoice_id`, each failing as [`ClaimFails::Work`].
pub fn claim(
    tx: &mut Tx<ClaimFails>,
    tenant: &str,
    invoice_id: &str,
    work: &[Work],
    now: Timestamp,
) -> ApiResult<()> {
    for w in work {
        tx.push(
            w.with_invoice(tenant, Some(invoice_id), now)?,
            ClaimFails::Work,
        );
    }
    Ok(())
}

/// Runs the transaction `build(work)` makes until it commits; work another
/// writer took meanwhile is dropped after a consistent re-read. Returns the
/// work claimed.
pub async fn commit_claims<F>(
    s: &Services,
    tenant: &str,
    work: Vec<Work>,
    build: F,
) -> ApiResult<Vec<Work>>
where
    F: Fn(&[Work]) -> ApiResult<Tx<ClaimFails>>,
{
    try_commit_claims(s, tenant, work, build)
        .await?
        .ok_or_else(|| {
            ApiError::changed(
                "the invoice changed while its work was being claimed; reload and retry",
            )
        })
}

/// [`commit_claims`], answering None when something other than the work
/// failed ([`ClaimFails::Other`]), so a caller with a fallback can take it.
pub async fn try_commit_claims<F>(
    s: &Services,
    tenant: &str,
    mut work: Vec<Work>,
    build: F,
) -> ApiResult<Option<Vec<Work>>>
where
    F: Fn(&[Work]) -> ApiResult<Tx<ClaimFails>>,
{
    for _ in 0..ATTEMPTS {
        match build(&work)?.run(&*s.table).await {
            Ok(()) => return Ok(Some(work)),
            Err(TxError::Failed(ClaimFails::Work) | TxError::Store(StoreError::Conflict)) => {
                work = reread(s, tenant, &work).await?;
            }
            Err(TxError::Failed(ClaimFails::Other)) => return Ok(None),
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(ApiError::changed(
        "the work kept changing while it was being claimed; retry",
    ))
}

/// The claim batches of an invoice, in order.
pub async fn batches(s: &Services, tenant: &str, invoice_id: &str) -> ApiResult<Vec<ClaimBatch>> {
    let q = Query::new(Index::Table, keys::invoice_partition(tenant, invoice_id))
        .sk(SkCondition::BeginsWith(keys::claims_prefix()))
        .limit(200);
    Ok(record::all::<ClaimBatch>(&*s.table, &q).await?)
}

/// Hands back the work of `batch` that `release` picks (all of it when the
/// batch is released whole): one transaction rewriting the batch and putting
/// each still-claimed item back in WIP. Work no longer on this invoice is
/// left alone, so a repeated release changes nothing.
pub async fn release_batch<F>(
    s: &Services,
    tenant: &str,
    invoice: &Invoice,
    batch: &ClaimBatch,
    release: F,
) -> ApiResult<()>
where
    F: Fn(&ClaimedWork) -> bool,
{
    if batch.released {
        return Ok(());
    }
    let (going, staying): (Vec<&ClaimedWork>, Vec<&ClaimedWork>) =
        batch.work.iter().partition(|w| release(w));
    if going.is_empty() {
        return Ok(());
    }
    let keys: Vec<Key> = going
        .iter()
        .map(|w| Key::new(w.pk.clone(), w.sk.clone()))
        .collect();
    let now = s.clock.now();
    const RACED: &str = "the invoice's work changed while it was being released; retry";
    let mut tx = Tx::new(tenant).contended(Fails::changed(RACED));
    let mut next = batch.clone();
    if staying.is_empty() {
        next.released = true;
    } else {
        next.work = staying.into_iter().cloned().collect();
    }
    agencyops_store::record::bump(&mut next, now);
    tx.replace(&next, batch.version, Fails::changed(RACED))?;
    for item in s.table.batch_get(&keys).await? {
        let Some(w) = Work::of_item(item)? else {
            continue;
        };
        let on_this = match &w {
            Work::Time(e) => e.invoice_id.as_deref() == Some(invoice.id.as_str()),
            Work::Expense(x) => x.invoice_id.as_deref() == Some(invoice.id.as_str()),
        };
        if on_this {
            tx.push(w.with_invoice(tenant, None, now)?, Fails::changed(RACED));
        }
    }
    tx.commit(s).await
}

/// Releases every batch (or the work `release` picks from each).
pub async fn release_all<F>(
    s: &Services,
    tenant: &str,
    invoice: &Invoice,
    release: F,
) -> ApiResult<()>
where
    F: Fn(&ClaimedWork) -> bool + Copy,
{
    for b in batches(s, tenant, &invoice.id).await? {
        release_batch(s, tenant, invoice, &b, release).await?;
    }
    Ok(())
}

/// A new batch of claimed work.
pub fn new_batch(invoice_id: &str, seq: u32, work: Vec<ClaimedWork>, now: Timestamp) -> ClaimBatch {
    ClaimBatch {
        id: format!("{invoice_id}/{seq}"),
        invoice_id: invoice_id.to_owned(),
        seq,
        work,
        released: false,
        version: 1,
        updated_at: now,
    }
}

/// The ids of work already in `batches` (not released).
pub fn claimed_ids(batches: &[ClaimBatch]) -> BTreeSet<String> {
    batches
        .iter()
        .filter(|b| !b.released)
        .flat_map(|b| b.work.iter().map(|w| w.id.clone()))
        .collect()
}

/// The rounding rule of each project (its own, else its client's).
pub fn roundings(
    projects: &[Project],
    client: Option<TimeRounding>,
) -> HashMap<String, Option<TimeRounding>> {
    projects
        .iter()
        .map(|p| (p.id.clone(), p.rounding.or(client)))
        .collect()
}
