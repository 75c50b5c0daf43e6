//! The reminder step of the daily run, and the one way a reminder fires
//! (automatic or by hand): its marker, the invoice's next date, any fee and
//! its audit and the mail's outbox item in one transaction under the invoice's
//! version; then the mail is queued.
//!
//! The step reads the due index up to the day (so its reads grow with what
//! is due, not with all invoices), decides each invoice from the policy as it
//! is now, and writes only what changed. After a policy change it reads the
//! whole index once, so every open invoice is placed by the new policy.

use std::collections::{BTreeSet, HashMap};

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_domain::Role;
use agencyops_invoicing::documents::store as docs;
use agencyops_platform::mail::{outbox, MailPurpose, OutgoingMail};
use agencyops_platform::resource::{audit_entry, new_id};
use agencyops_platform::{Services, Tx, TxError};
use agencyops_store::audit::{Actor, AuditAction};
use agencyops_store::record::{self, from_item, is, Record};
use agencyops_store::records::{
    ActivityKind, BillTo, Client, DunningMarker, DunningPolicy, DunningReindex, FeeFor, Invoice,
    InvoiceActivity, InvoiceLine, InvoicingSettings, LineKind, LineUnit, NumberCounter,
};
use agencyops_store::{keys, Index, Item, Query, SkCondition, StoreError};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::plan::{self, Decision, Fee, Step};

/// What one tenant's reminder step did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Invoices the due index named for the day.
    pub due: usize,
    /// Reminders fired (marker written, mail queued).
    pub sent: usize,
    /// Late fees charged (each a fee invoice).
    pub fees: usize,
    /// Steps whose marker was already there (another run, or sent by hand).
    pub already_sent: usize,
    /// Invoices whose next date moved without a reminder (quiet days, paused, not yet due).
    pub rescheduled: usize,
    /// Invoices that changed meanwhile (a payment won): left for the next run.
    pub changed_meanwhile: usize,
    /// Due, but the client has no billing email to send to.
    pub no_recipient: usize,
    /// Whether this run re-placed every open invoice after a policy change.
    pub reindexed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DunningError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("queue: {0}")]
    Queue(String),
    #[error("fee invoice document: {0}")]
    Document(String),
    #[error("{0}")]
    Settings(String),
}

/// Who fires a reminder: the schedule, or a person by hand.
#[derive(Clone, Debug)]
pub struct By {
    pub id: String,
    pub role: String,
}

impl By {
    pub fn schedule() -> By {
        By {
            id: "dunning".into(),
            role: Actor::SYSTEM_ROLE.into(),
        }
    }
    fn actor(&self) -> Actor<'_> {
        Actor {
            id: &self.id,
            role: &self.role,
        }
    }
}

/// A fee as charged on its own invoice.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChargedFee {
    pub amount: Decimal,
    pub currency: String,
    pub invoice_id: String,
    pub number: String,
}

/// What firing one step came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Fired {
    Sent {
        mail_id: String,
        fee: Option<ChargedFee>,
    },
    /// Its marker exists: sent before, by a run or by hand.
    AlreadySent,
    /// The invoice changed since it was read (paid, credited, edited).
    Changed,
    NoRecipient,
}

/// What the tenant's reminders are decided with, read once per run.
pub struct TenantContext {
    pub tenant: String,
    pub policy: DunningPolicy,
    pub settings: InvoicingSettings,
}

impl TenantContext {
    pub async fn load(s: &Services, tenant: &str) -> Result<TenantContext, DunningError> {
        let pk = keys::dunning_policy(tenant);
        let sk = keys::invoicing_settings(tenant);
        let found = s.table.batch_get(&[pk.clone(), sk.clone()]).await?;
        let mut policy = None;
        let mut settings = None;
        for item in found {
            if is::<DunningPolicy>(&item) {
                policy = Some(from_item::<DunningPolicy>(item)?);
            } else if is::<InvoicingSettings>(&item) {
                settings = Some(from_item::<InvoicingSettings>(item)?);
            }
        }
        Ok(TenantContext {
            tenant: tenant.to_owned(),
            policy: policy.unwrap_or_else(|| DunningPolicy::none(s.clock.now())),
            settings: settings.unwrap_or_else(|| InvoicingSettings::defaults(s.clock.now())),
        })
    }
}

/// Clients and their overrides for a set of invoices, in one batch read.
pub struct Clients {
    pub clients: HashMap<String, Client>,
    pub overrides: HashMap<String, DunningPolicy>,
}

impl Clients {
    pub async fn load(
        s: &Services,
        tenant: &str,
        ids: &BTreeSet<String>,
    ) -> Result<Clients, DunningError> {
        if ids.is_empty() {
            return Ok(Clients {
                clients: HashMap::new(),
                overrides: HashMap::new(),
            });
        }
        let mut wanted = Vec::with_capacity(ids.len() * 2);
        for c in ids {
            wanted.push(keys::client(tenant, c));
            wanted.push(keys::client_dunning_policy(tenant, c));
        }
        let mut out = Clients {
            clients: HashMap::new(),
            overrides: HashMap::new(),
        };
        for item in s.table.batch_get(&wanted).await? {
            if is::<Client>(&item) {
                let c: Client = from_item(item)?;
                out.clients.insert(c.id.clone(), c);
            } else if is::<DunningPolicy>(&item) {
                let p: DunningPolicy = from_item(item)?;
                if let Some(c) = p.client_id.clone() {
                    out.overrides.insert(c, p);
                }
            }
        }
        Ok(out)
    }

    /// The policy that applies to a client now: its own, else the tenant's.
    pub fn policy<'a>(&'a self, ctx: &'a TenantContext, client: &str) -> &'a DunningPolicy {
        self.overrides.get(client).unwrap_or(&ctx.policy)
    }
}

/// Invoices read per page of the due index (and clients per batch read).
const PAGE: usize = 100;

/// The reminder step for one tenant on `as_of`.
pub async fn run_tenant(s: &Services, tenant: &str, as_of: Date) -> Result<Summary, DunningError> {
    let ctx = TenantContext::load(s, tenant).await?;
    let reindex = record::load::<DunningReindex>(&*s.table, &keys::dunning_reindex(tenant)).await?;
    let pending = reindex.as_ref().filter(|r| r.requested > r.done);
    let mut summary = Summary {
        reindexed: pending.is_some(),
        ..Summary::default()
    };
    // After a policy change every open invoice is looked at once; otherwise
    // only those whose next date has come.
    let sk = if pending.is_some() {
        SkCondition::Any
    } else {
        SkCondition::AtMost(keys::ar_due_until(as_of))
    };
    let mut q = Query::new(Index::Gsi3, keys::ar_due(tenant))
        .sk(sk)
        .limit(PAGE);
    loop {
        let page = s.table.query(&q).await?;
        let invoices: Vec<Invoice> = page
            .items
            .into_iter()
            .filter(is::<Invoice>)
            .map(from_item)
            .collect::<Result<_, _>>()?;
        let ids: BTreeSet<String> = invoices.iter().map(|i| i.client_id.clone()).collect();
        let clients = Clients::load(s, tenant, &ids).await?;
        for inv in invoices {
            summary.due += 1;
            one(s, &ctx, &clients, inv, as_of, &mut summary).await?;
        }
        match page.next {
            Some(n) => q.start_after = Some(n),
            None => break,
        }
    }
    if let Some(r) = pending {
        let mut done = r.clone();
        done.done = r.requested;
        let expected = record::bump(&mut done, s.clock.now());
        // A policy saved meanwhile raised `requested`: this write fails and
        // the next run places the invoices again, as it should.
        match s
            .table
            .transact(vec![record::replace(tenant, &done, expected)?])
            .await
        {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(summary)
}

/// Decides and acts on one invoice of the index.
async fn one(
    s: &Services,
    ctx: &TenantContext,
    clients: &Clients,
    inv: Invoice,
    as_of: Date,
    summary: &mut Summary,
) -> Result<(), DunningError> {
    // The index is read eventually consistent; the writes below are under
    // the invoice's version, so a closed invoice read stale only loses.
    let Some(due) = inv.due_date.filter(|_| inv.may_be_chased()) else {
        return Ok(());
    };
    let policy = clients.policy(ctx, &inv.client_id);
    let decision = plan::decide(policy, due, as_of, inv.last_sent_on);
    let next = decision.next();
    match decision {
        Decision::Wait { next } => {
            summary.rescheduled += 1;
            reschedule(s, &ctx.tenant, &inv, next, summary).await
        }
        Decision::Fire { step, .. } => {
            let client = clients.clients.get(&inv.client_id);
            match fire(
                s,
                ctx,
                &inv,
                client,
                policy,
                &step,
                next,
                as_of,
                &By::schedule(),
                false,
            )
            .await?
            {
                Fired::Sent { fee, .. } => {
                    summary.sent += 1;
                    summary.fees += usize::from(fee.is_some());
                    Ok(())
                }
                Fired::AlreadySent => {
                    summary.already_sent += 1;
                    reschedule(s, &ctx.tenant, &inv, next, summary).await
                }
                Fired::Changed => {
                    summary.changed_meanwhile += 1;
                    Ok(())
                }
                Fired::NoRecipient => {
                    summary.no_recipient += 1;
                    Ok(())
                }
            }
        }
    }
}

/// Moves the invoice's next date (nothing to write if it is already there).
async fn reschedule(
    s: &Services,
    tenant: &str,
    inv: &Invoice,
    next: Date,
    summary: &mut Summary,
) -> Result<(), DunningError> {
    if inv.next_action_on == Some(next) {
        return Ok(());
    }
    let mut moved = inv.clone();
    moved.next_action_on = Some(next);
    let expected = record::bump(&mut moved, s.clock.now());
    match s
        .table
        .transact(vec![record::replace(tenant, &moved, expected)?])
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
            summary.changed_meanwhile += 1;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Who a reminder goes to: the client's billing email, else the invoice's addressee.
fn recipient(inv: &Invoice, client: Option<&Client>) -> Option<String> {
    client
        .and_then(|c| c.billing_email.clone())
        .or_else(|| inv.bill_to.email.clone())
        .filter(|e| !e.trim().is_empty())
}

/// The mail of a step: id from invoice and step, so producing it twice is one mail.
pub fn mail_id(invoice: &str, step: &Step) -> String {
    agencyops_platform::mail::message_id("reminder", &[invoice, &step.id])
}

/// Attempts at the fee invoice's number while other issues take the ones read.
const NUMBER_ATTEMPTS: usize = 20;

#[derive(Debug)]
enum Why {
    Marker,
    Invoice,
    Counter,
    Other,
}

/// Fires `step` of `inv` once: marker, next date (and the manual send's
/// date), fee invoice with its number, activity and audit, all or nothing
/// and the mail's outbox item under the invoice's version; then queues the mail.
#[allow(clippy::too_many_arguments)]
pub async fn fire(
    s: &Services,
    ctx: &TenantContext,
    inv: &Invoice,
    client: Option<&Client>,
    policy: &DunningPolicy,
    step: &Step,
    next: Date,
    today: Date,
    by: &By,
    by_hand: bool,
) -> Result<Fired, DunningError> {
    let Some(to) = recipient(inv, client) else {
        return Ok(Fired::NoRecipient);
    };
    let Some(due) = inv.due_date else {
        return Ok(Fired::Changed);
    };
    let tenant = ctx.tenant.as_str();
    let balance = inv.balance_due();
    let fee = plan::fee(policy, step, due, balance, inv.currency, inv.rounding);
    let pattern =
        agencyops_invoicing::numbers::pattern(&ctx.settings.number_pattern, "number_pattern")
            .map_err(|e| DunningError::Settings(e.to_string()))?;
    let mail = mail_id(&inv.id, step);
    for _ in 0..NUMBER_ATTEMPTS {
        let now = s.clock.now();
        let mut tx: Tx<Why> = Tx::new(tenant).contended(Why::Other);
        let drawn = match &fee {
            Some(_) => {
                let counter_key = keys::invoice_counter(tenant, &pattern.series(today));
                let counter = record::load::<NumberCounter>(&*s.table, &counter_key).await?;
                Some(
                    agencyops_invoicing::numbers::draw(
                        tenant,
                        &counter_key,
                        counter,
                        &pattern,
                        today,
                        now,
                    )
                    .map_err(|e| DunningError::Settings(e.to_string()))?,
                )
            }
            None => None,
        };
        let fee_inv = match (&fee, &drawn) {
            (Some(fee), Some(d)) => {
                let mut f = fee_invoice(inv, client, step, policy, fee, &d.number, today, now);
                // Kept like any issued invoice's (before the commit: a blob
                // no invoice names is harmless), so it can be mailed and opened.
                let doc = docs::invoice_document(&f, &ctx.settings, &[], &Default::default());
                f.document = docs::keep_issued(s, tenant, &doc, &f.id)
                    .await
                    .map_err(|e| DunningError::Document(e.to_string()))?;
                Some(f)
            }
            _ => None,
        };
        let marker = DunningMarker {
            id: step.id.clone(),
            invoice_id: inv.id.clone(),
            stage: step.label(policy),
            on: today,
            by: by.id.clone(),
            mail_id: mail.clone(),
            fee_invoice_id: fee_inv.as_ref().map(|f| f.id.clone()),
            version: 1,
            updated_at: now,
        };
        // The marker first: a step fired before is "already sent" whatever else changed.
        tx.create(&marker, Why::Marker)?;
        tx.push(
            audit_entry(
                s,
                tenant,
                by.actor(),
                AuditAction::Create,
                (DunningMarker::KIND, &format!("{}/{}", inv.id, step.id)),
                None,
                serde_json::to_value(&marker).ok(),
            )?,
            Why::Other,
        );
        let mut moved = inv.clone();
        moved.next_action_on = Some(next);
        if by_hand {
            moved.last_sent_on = Some(today);
        }
        let expected = record::bump(&mut moved, now);
        tx.replace(&moved, expected, Why::Invoice)?;
        let mut charged = None;
        if let (Some(fee), Some(fee_inv), Some(drawn)) = (&fee, fee_inv, drawn) {
            tx.create(&fee_inv, Why::Other)?;
            tx.push(drawn.write, Why::Counter);
            let activity = InvoiceActivity {
                id: format!("late-fee-{}", step.id.replace(['#', ' '], "-")),
                invoice_id: inv.id.clone(),
                activity: ActivityKind::LateFee,
                on: today,
                at: now,
                details: details(&[
                    ("stage", json!(step.label(policy))),
                    ("amount", json!(fee.amount.to_string())),
                    ("currency", json!(inv.currency.code())),
                    ("fee_invoice_id", json!(fee_inv.id)),
                    ("fee_invoice_number", json!(drawn.number)),
                    ("made_of", json!(fee.parts)),
                    ("by", json!(by.id)),
                ]),
                version: 1,
                created_at: now,
                updated_at: now,
            };
            tx.put(&activity, Why::Other)?;
            tx.push(
                audit_entry(
                    s,
                    tenant,
                    by.actor(),
                    AuditAction::Create,
                    (Invoice::KIND, &fee_inv.id),
                    None,
                    serde_json::to_value(&fee_inv).ok(),
                )?,
                Why::Other,
            );
            charged = Some(ChargedFee {
                amount: fee.amount,
                currency: inv.currency.code().to_owned(),
                invoice_id: fee_inv.id.clone(),
                number: drawn.number.clone(),
            });
        }
        let out = reminder_mail(
            inv,
            client,
            policy,
            step,
            today,
            &to,
            &mail,
            charged.as_ref(),
            tenant,
        );
        // The mail commits with the marker (the outbox), so a crash before
        // it is queued leaves it for the next run instead of losing it.
        tx.push(
            outbox::item(&out, now).map_err(|e| DunningError::Queue(e.to_string()))?,
            Why::Other,
        );
        match tx.run(&*s.table).await {
            Ok(()) => {
                // Committed is sent: a queue outage leaves the mail in the
                // outbox, which the daily run's closing flush queues (or
                // fails the run, so the schedule retries it).
                if let Err(e) = outbox::publish(s, &out).await {
                    tracing::warn!(mail = %out.id, error = %e, "reminder left in the outbox");
                }
                return Ok(Fired::Sent {
                    mail_id: mail,
                    fee: charged,
                });
            }
            Err(TxError::Failed(Why::Marker)) => return Ok(Fired::AlreadySent),
            Err(TxError::Failed(Why::Invoice)) | Err(TxError::Failed(Why::Other)) => {
                // Lost to a payment or another run: the marker decides on the
                // next read whether there is anything left to do.
                return Ok(Fired::Changed);
            }
            Err(TxError::Failed(Why::Counter)) => continue,
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Ok(Fired::Changed)
}

fn details(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// The late fee as its own issued invoice to the same client, numbered in
/// the normal series, one line saying what it charges for.
#[allow(clippy::too_many_arguments)]
fn fee_invoice(
    inv: &Invoice,
    client: Option<&Client>,
    step: &Step,
    policy: &DunningPolicy,
    fee: &Fee,
    number: &str,
    today: Date,
    now: jiff::Timestamp,
) -> Invoice {
    let of = inv.number.as_deref().unwrap_or(&inv.id);
    let description = format!(
        "Late fee: {} for invoice {of} ({})",
        step.label(policy),
        fee.parts.join("; ")
    );
    let terms = client
        .map(|c| c.payment_terms_days)
        .unwrap_or(inv.payment_terms_days);
    Invoice {
        id: new_id(),
        client_id: inv.client_id.clone(),
        bill_to: BillTo {
            name: inv.bill_to.name.clone(),
            email: inv.bill_to.email.clone(),
        },
        kind: agencyops_store::records::InvoiceKind::Manual,
        status: InvoiceStatus::Issued,
        number: Some(number.to_owned()),
        currency: inv.currency,
        issue_date: Some(today),
        due_date: today
            .checked_add(jiff::Span::new().days(i64::from(terms)))
            .ok(),
        due_date_fixed: true,
        payment_terms_days: terms,
        po_number: inv.po_number.clone(),
        notes: Some(format!(
            "Late fee charged with the reminder for invoice {of}."
        )),
        internal_note: None,
        selection: None,
        time_grouping: Default::default(),
        detail: Default::default(),
        expense_grouping: Default::default(),
        fixed_fee: None,
        milestone_ids: Vec::new(),
        lines: vec![InvoiceLine {
            id: "late-fee".into(),
            kind: LineKind::Manual,
            description,
            quantity: Decimal::ONE,
            unit: LineUnit::Each,
            unit_price: fee.amount,
            adjustment: Decimal::ZERO,
            gross: fee.amount,
            amount: fee.amount,
            tax_codes: Vec::new(),
            minutes: None,
            project_id: None,
            milestone_id: None,
            work_count: 0,
            service_date: Some(today),
        }],
        discount: None,
        tax_rates: Vec::new(),
        default_tax_codes: Vec::new(),
        rounding: inv.rounding,
        line_total: fee.amount,
        discount_total: Decimal::ZERO,
        tax_breakdown: Vec::new(),
        tax_total: Decimal::ZERO,
        total: fee.amount,
        amount_paid: Decimal::ZERO,
        amount_credited: Decimal::ZERO,
        written_off: None,
        claim_batches: 0,
        keeps_work_when_void: false,
        document: None,
        credit_note_ids: Vec::new(),
        created_by: "dunning".into(),
        created_by_role: Role::Finance,
        issued_at: Some(now),
        last_sent_on: None,
        next_action_on: None,
        fee_for: Some(FeeFor {
            invoice_id: inv.id.clone(),
            stage: step.id.clone(),
        }),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// The reminder as the client reads it, saying what any fee is.
#[allow(clippy::too_many_arguments)]
fn reminder_mail(
    inv: &Invoice,
    client: Option<&Client>,
    policy: &DunningPolicy,
    step: &Step,
    today: Date,
    to: &str,
    id: &str,
    fee: Option<&ChargedFee>,
    tenant: &str,
) -> OutgoingMail {
    let stage = &policy.stages[step.stage.min(policy.stages.len().saturating_sub(1))];
    let due = inv.due_date.unwrap_or(today);
    let number = inv.number.clone().unwrap_or_else(|| inv.id.clone());
    let name = client
        .map(|c| c.name.clone())
        .unwrap_or_else(|| inv.bill_to.name.clone());
    let fill = plan::Fill {
        number: &number,
        balance: format!("{} {}", inv.balance_due(), inv.currency.code()),
        due_date: due,
        client: &name,
        days_overdue: i64::from((today - due).get_days()),
    };
    let mut text = plan::render(&stage.body, &fill);
    if let Some(f) = fee {
        text.push_str(&format!(
            "\n\nA late fee of {} {} has been charged with this reminder, billed separately as invoice {}.",
            f.amount, f.currency, f.number
        ));
    }
    OutgoingMail {
        id: id.to_owned(),
        tenant: tenant.to_owned(),
        to: vec![to.to_owned()],
        cc: Vec::new(),
        subject: plan::render(&stage.subject, &fill),
        text,
        html: None,
        attachments: Vec::new(),
        purpose: MailPurpose::Reminder {
            invoice_id: inv.id.clone(),
            stage: step.id.clone(),
        },
    }
}

/// Every step of an invoice already fired (its markers).
pub async fn fired_steps(
    s: &Services,
    tenant: &str,
    invoice: &str,
) -> Result<BTreeSet<String>, DunningError> {
    let q = Query::new(Index::Table, keys::invoice_partition(tenant, invoice)).sk(
        SkCondition::BeginsWith(keys::dunning_markers_prefix().to_owned()),
    );
    let items: Vec<Item> = record::all_items(&*s.table, &q).await?;
    Ok(items
        .into_iter()
        .filter(is::<DunningMarker>)
        .filter_map(|i| from_item::<DunningMarker>(i).ok())
        .map(|m| m.id)
        .collect())
}
