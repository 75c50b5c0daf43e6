//! The aging job, one tenant's share of the daily run: it keeps the day's AR
//! snapshot (`T#t#ARSNAPSHOT` / `DAY#date`; a second run of the day writes the
//! same item with the same content, since everything in it follows from the
//! invoices and the date) and, on Mondays, queues one digest mail to finance
//! and admins: aging per client, invoices that moved a bucket since last
//! Monday's snapshot, what falls due this week and the reminders sent last
//! week. The digest is queued once per ISO week: a marker is written after
//! queueing (a crash in between queues it again under the same mail id,
//! which the mail sender delivers once).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use agencyops_domain::receivables::{round_money, Bucket};
use agencyops_domain::{Currency, Role};
use agencyops_platform::mail::{MailPurpose, OutgoingMail, MAIL_QUEUE};
use agencyops_platform::ports::PortError;
use agencyops_platform::Services;
use agencyops_store::record::{all, load, to_item};
use agencyops_store::records::{
    ArSnapshot, DigestMarker, Person, SnapshotClient, SnapshotTotal, SNAPSHOT_MAX_INVOICES,
};
use agencyops_store::{keys, Index, Query, SkCondition, StoreError, Write};
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::Span;
use rust_decimal::Decimal;
use serde::Serialize;

use super::aging::{client_names, Aging};
use super::ledger::{self, Entry, Need};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("queue: {0}")]
    Queue(#[from] PortError),
    #[error("digest could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

/// What the aging job did for one tenant.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Invoices with a balance in the day's snapshot.
    pub invoices_owed: u32,
    /// The digest mail id queued by this run (Mondays, once per week).
    pub digest_queued: Option<String>,
}

fn plus(d: Date, n: i64) -> Date {
    d.checked_add(Span::new().days(n)).unwrap_or(d)
}

/// `2026-W49`.
pub fn iso_week(d: Date) -> String {
    let w = d.iso_week_date();
    format!("{:04}-W{:02}", w.year(), w.week())
}

/// The digest's mail id: one per tenant and ISO week.
pub fn digest_id(tenant: &str, d: Date) -> String {
    agencyops_platform::mail::message_id("digest", &[tenant, &iso_week(d)])
}

fn start_of(d: Date) -> jiff::Timestamp {
    d.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The snapshot of `as_of` as the aging says it.
pub fn snapshot_of(aging: &Aging, as_of: Date) -> ArSnapshot {
    let at = start_of(as_of);
    let left_out = aging.invoices.len().saturating_sub(SNAPSHOT_MAX_INVOICES);
    ArSnapshot {
        id: as_of.to_string(),
        date: as_of,
        clients: aging
            .clients
            .iter()
            .map(|((client, currency), b)| SnapshotClient {
                client_id: client.clone(),
                currency: *currency,
                buckets: (*b).into(),
            })
            .collect(),
        totals: aging
            .totals
            .iter()
            .map(|(currency, b)| SnapshotTotal {
                currency: *currency,
                buckets: (*b).into(),
            })
            .collect(),
        invoices: aging
            .invoices
            .iter()
            .take(SNAPSHOT_MAX_INVOICES)
            .cloned()
            .collect(),
        invoices_left_out: left_out as u32,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

pub async fn run_tenant(
    services: &Services,
    tenant: &str,
    as_of: Date,
) -> Result<Summary, SnapshotError> {
    let monday = as_of.weekday() == Weekday::Monday;
    let need = if monday {
        Need::BalancesAndActivity(as_of)
    } else {
        Need::BalancesFrom(as_of)
    };
    let table = &*services.table;
    let entries = ledger::load(table, tenant, need).await?;
    let aging = Aging::of(&entries, as_of);
    let snapshot = snapshot_of(&aging, as_of);
    table
        .transact(vec![Write::put(to_item(tenant, &snapshot)?)])
        .await?;
    let mut summary = Summary {
        invoices_owed: aging.invoices.len() as u32,
        digest_queued: None,
    };
    if monday {
        summary.digest_queued = digest(services, tenant, as_of, &entries, &snapshot).await?;
    }
    Ok(summary)
}

/// Who reads the digest: active finance and admin people, by email.
async fn recipients(services: &Services, tenant: &str) -> Result<Vec<String>, StoreError> {
    let q = Query::new(Index::Table, keys::people(tenant))
        .sk(SkCondition::BeginsWith(keys::people_prefix()))
        .limit(500);
    let mut to: Vec<String> = all::<Person>(&*services.table, &q)
        .await?
        .into_iter()
        .filter(|p| p.active && matches!(p.role, Role::Admin | Role::Finance))
        .map(|p| p.email)
        .collect();
    to.sort();
    to.dedup();
    Ok(to)
}

fn money(d: Decimal, c: Currency) -> String {
    format!("{} {}", round_money(d, c), c.code())
}

/// Queues the week's digest unless it already was; returns its id if queued now.
async fn digest(
    services: &Services,
    tenant: &str,
    as_of: Date,
    entries: &[Entry],
    today: &ArSnapshot,
) -> Result<Option<String>, SnapshotError> {
    let week = iso_week(as_of);
    let table = &*services.table;
    if load::<DigestMarker>(table, &keys::ar_digest(tenant, &week))
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let to = recipients(services, tenant).await?;
    if to.is_empty() {
        return Ok(None);
    }
    let last_monday = plus(as_of, -7);
    let before =
        load::<ArSnapshot>(table, &keys::ar_snapshot(tenant, &last_monday.to_string())).await?;
    let names = client_names(table, tenant).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let text = digest_text(as_of, today, before.as_ref(), entries, &name);
    let id = digest_id(tenant, as_of);
    let mail = OutgoingMail {
        id: id.clone(),
        tenant: tenant.to_owned(),
        to,
        cc: Vec::new(),
        subject: format!("Receivables digest, week {week}"),
        text,
        html: None,
        attachments: Vec::new(),
        purpose: MailPurpose::Digest { week: week.clone() },
    };
    services
        .queue
        .send(MAIL_QUEUE, &serde_json::to_string(&mail)?)
        .await?;
    let marker = DigestMarker {
        id: week,
        mail_id: id.clone(),
        version: 1,
        created_at: services.clock.now(),
        updated_at: services.clock.now(),
    };
    table
        .transact(vec![Write::put(to_item(tenant, &marker)?)])
        .await?;
    Ok(Some(id))
}

/// The digest's plain text: four sections, each saying "none" when empty.
pub fn digest_text(
    as_of: Date,
    today: &ArSnapshot,
    last_monday: Option<&ArSnapshot>,
    entries: &[Entry],
    name: &dyn Fn(&str) -> String,
) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "Receivables as of {as_of}\n");
    let _ = writeln!(
        t,
        "Aging per client (current / 1-30 / 31-60 / 61-90 / over 90 / total):"
    );
    if today.clients.is_empty() {
        let _ = writeln!(t, "  nothing owed");
    }
    for c in &today.clients {
        let b: agencyops_domain::receivables::Buckets = c.buckets.into();
        let cur = c.currency;
        let parts: Vec<String> = Bucket::ALL
            .iter()
            .map(|x| round_money(b.get(*x), cur).to_string())
            .collect();
        let _ = writeln!(
            t,
            "  {}: {} / {}",
            name(&c.client_id),
            parts.join(" / "),
            money(b.total(), cur)
        );
    }
    for total in &today.totals {
        let b: agencyops_domain::receivables::Buckets = total.buckets.into();
        let _ = writeln!(t, "  Total {}", money(b.total(), total.currency));
    }

    let _ = writeln!(t, "\nMoved a bucket since {}:", plus(as_of, -7));
    let earlier: BTreeMap<&str, Bucket> = last_monday
        .map(|s| {
            s.invoices
                .iter()
                .map(|i| (i.id.as_str(), i.bucket))
                .collect()
        })
        .unwrap_or_default();
    let mut moved = 0;
    for inv in &today.invoices {
        if let Some(was) = earlier.get(inv.id.as_str()).filter(|b| **b != inv.bucket) {
            moved += 1;
            let _ = writeln!(
                t,
                "  {} ({}): {} -> {}, {} owed",
                inv.number.as_deref().unwrap_or(&inv.id),
                name(&inv.client_id),
                was.as_str(),
                inv.bucket.as_str(),
                money(inv.balance, inv.currency)
            );
        }
    }
    if last_monday.is_none() {
        let _ = writeln!(t, "  no snapshot of last Monday to compare with");
    } else if moved == 0 {
        let _ = writeln!(t, "  none");
    }

    let week_end = plus(as_of, 6);
    let _ = writeln!(t, "\nDue this week ({as_of} to {week_end}):");
    let mut due = 0;
    for inv in &today.invoices {
        if inv.due_date.is_some_and(|d| d >= as_of && d <= week_end) {
            due += 1;
            let _ = writeln!(
                t,
                "  {} ({}), due {}: {}",
                inv.number.as_deref().unwrap_or(&inv.id),
                name(&inv.client_id),
                inv.due_date.map(|d| d.to_string()).unwrap_or_default(),
                money(inv.balance, inv.currency)
            );
        }
    }
    if due == 0 {
        let _ = writeln!(t, "  none");
    }

    let _ = writeln!(
        t,
        "\nReminders sent {} to {}:",
        plus(as_of, -7),
        plus(as_of, -1)
    );
    let mut sent = 0;
    for e in entries {
        for r in &e.reminders {
            if r.on >= plus(as_of, -7) && r.on < as_of {
                sent += 1;
                let stage = r
                    .details
                    .get("stage")
                    .and_then(|v| v.as_str())
                    .unwrap_or("reminder");
                let _ = writeln!(
                    t,
                    "  {} ({}) on {}: {}",
                    e.invoice.number.as_deref().unwrap_or(&e.invoice.id),
                    name(&e.invoice.client_id),
                    r.on,
                    stage
                );
            }
        }
    }
    if sent == 0 {
        let _ = writeln!(t, "  none");
    }
    t
}
