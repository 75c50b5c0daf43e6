//! The `approved` queue's consumer. Each message is a [`BurnChange`]; it is
//! applied at most once (a marker item with the change id is created in the
//! same transaction as the new burn), so SQS's at-least-once delivery never
//! counts work twice, and each budget threshold is raised exactly once.

use agencyops_domain::budget::{percent_used, thresholds_reached, Measure};
use agencyops_platform::events::BurnChange;
use agencyops_platform::resource;
use agencyops_platform::{Services, Tx, TxError};
use agencyops_store::audit::{Actor, AuditAction};
use agencyops_store::record::{self, load, Record};
use agencyops_store::records::{BudgetAlert, BurnApplied, Project, ProjectBurn};
use agencyops_store::{keys, StoreError, Write};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use rust_decimal::Decimal;

/// Who the audit trail names for changes the consumer makes.
const ACTOR: &str = "system:budget";
/// Attempts when another consumer changes the same burn at the same moment.
const ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// Will never succeed: the message goes to the dead-letter queue for a person to see.
    #[error("malformed burn change: {0}")]
    Malformed(String),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("the burn kept changing under {0} attempts")]
    Contended(usize),
}

/// What a failed write of one application means.
#[derive(Clone, Copy, Debug)]
enum Lost {
    /// The marker exists: this change id was applied meanwhile.
    AlreadyApplied,
    BurnMoved,
}

#[derive(Debug, PartialEq)]
pub enum Outcome {
    Applied {
        alerts: Vec<(Measure, u32)>,
    },
    /// The change id was applied before: a redelivery, nothing changed.
    AlreadyApplied,
    /// The project no longer exists (or never did in this tenant).
    UnknownProject,
}

/// Applies one change to its project's burn, at most once.
pub async fn apply(services: &Services, change: &BurnChange) -> Result<Outcome, BudgetError> {
    check(change)?;
    let tenant = &change.tenant;
    let table = &*services.table;
    let applied_key = keys::burn_applied(tenant, &change.project_id, &change.change_id);
    if table.get(&applied_key).await?.is_some() {
        return Ok(Outcome::AlreadyApplied);
    }
    let Some(project) = load::<Project>(table, &keys::project(tenant, &change.project_id)).await?
    else {
        return Ok(Outcome::UnknownProject);
    };
    // A retry re-reads only the burn: the marker write below still notices a
    // change applied meanwhile.
    for _ in 0..ATTEMPTS {
        let now = services.clock.now();
        let current = load::<ProjectBurn>(table, &keys::project_burn(tenant, &project.id))
            .await?
            .unwrap_or_else(|| ProjectBurn {
                id: project.id.clone(),
                minutes: 0,
                billable_minutes: 0,
                fees: Decimal::ZERO,
                cost: Decimal::ZERO,
                currency: project.currency,
                alerts: Vec::new(),
                changes_applied: 0,
                version: 0,
                updated_at: now,
            });
        if change.currency != current.currency {
            return Err(BudgetError::Malformed(format!(
                "change in {} for a project in {}",
                change.currency.code(),
                current.currency.code()
            )));
        }
        let next = next_burn(&project, &current, change, now)?;
        // `next` keeps every alert `current` had and appends the new ones.
        let raised: Vec<_> = next
            .alerts
            .iter()
            .skip(current.alerts.len())
            .cloned()
            .collect();
        let mut tx = Tx::new(tenant).contended(Lost::BurnMoved);
        let marker = BurnApplied {
            id: change.change_id.clone(),
            project_id: project.id.clone(),
            version: 1,
            updated_at: now,
        };
        tx.create(&marker, Lost::AlreadyApplied)?
            .save(&next, current.version, Lost::BurnMoved)?;
        for alert in &raised {
            tx.push(
                alert_audit(services, tenant, &project.id, alert)?,
                Lost::BurnMoved,
            );
        }
        match tx.run(table).await {
            Ok(()) => {
                for a in &raised {
                    tracing::info!(project = %project.id, measure = ?a.measure, threshold = a.threshold_percent, "budget alert raised");
                }
                return Ok(Outcome::Applied {
                    alerts: raised
                        .iter()
                        .map(|a| (a.measure, a.threshold_percent))
                        .collect(),
                });
            }
            Err(TxError::Failed(Lost::AlreadyApplied)) => return Ok(Outcome::AlreadyApplied),
            // Someone else moved the burn: read it again and retry.
            Err(TxError::Failed(Lost::BurnMoved)) => continue,
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(BudgetError::Contended(ATTEMPTS))
}

fn check(change: &BurnChange) -> Result<(), BudgetError> {
    let ok_id = |s: &str| agencyops_domain::Id::is_valid(s);
    if !ok_id(&change.tenant) || !ok_id(&change.project_id) {
        return Err(BudgetError::Malformed("tenant or project id".into()));
    }
    if change.change_id.is_empty() || change.change_id.len() > 200 || change.change_id.contains('#')
    {
        return Err(BudgetError::Malformed("change_id".into()));
    }
    Ok(())
}

/// The burn after `change`, with any thresholds it newly reaches raised.
fn next_burn(
    project: &Project,
    current: &ProjectBurn,
    change: &BurnChange,
    now: jiff::Timestamp,
) -> Result<ProjectBurn, BudgetError> {
    let overflow = || BudgetError::Malformed("amounts out of range".into());
    let add = |a: u64, d: i64| {
        // Burn never goes below zero, whatever order changes arrive in.
        i64::try_from(a)
            .ok()
            .and_then(|a| a.checked_add(d))
            .map(|v| v.max(0) as u64)
    };
    let mut next = current.clone();
    next.minutes = add(current.minutes, change.minutes).ok_or_else(overflow)?;
    next.billable_minutes =
        add(current.billable_minutes, change.billable_minutes).ok_or_else(overflow)?;
    next.fees = current
        .fees
        .checked_add(change.fees)
        .ok_or_else(overflow)?
        .max(Decimal::ZERO);
    next.cost = current
        .cost
        .checked_add(change.cost)
        .ok_or_else(overflow)?
        .max(Decimal::ZERO);
    next.changes_applied += 1;
    // Exact hours decide alerts (and the percentage they show is rounded once).
    let exact_hours = Decimal::from(next.minutes) / Decimal::from(60);
    let already: Vec<_> = current
        .alerts
        .iter()
        .map(|a| (a.measure, a.threshold_percent))
        .collect();
    for (measure, threshold) in
        thresholds_reached(&project.budget, exact_hours, next.fees, &already)
    {
        let (used, limit) = match measure {
            Measure::Hours => (exact_hours, project.budget.hours),
            Measure::Fees => (next.fees, project.budget.fees),
        };
        next.alerts.push(BudgetAlert {
            measure,
            threshold_percent: threshold,
            raised_at: now,
            percent_used: limit
                .and_then(|l| percent_used(used, l))
                .unwrap_or_default(),
        });
    }
    record::bump(&mut next, now);
    Ok(next)
}

fn alert_audit(
    services: &Services,
    tenant: &str,
    project: &str,
    alert: &BudgetAlert,
) -> Result<Write, StoreError> {
    resource::audit_entry(
        services,
        tenant,
        Actor::system(ACTOR),
        AuditAction::BudgetAlert,
        (Project::KIND, project),
        None,
        serde_json::to_value(alert).ok(),
    )
}

/// One message body as the local host's queue delivers it; `Err` asks for redelivery.
pub async fn handle_body(services: &Services, body: &str) -> Result<(), String> {
    let change: BurnChange = serde_json::from_str(body).map_err(|e| e.to_string())?;
    match apply(services, &change).await {
        Ok(outcome) => {
            tracing::info!(change = %change.change_id, ?outcome, "burn change handled");
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// An SQS batch as Lambda delivers it. Failures are reported per message, so
/// one bad message is retried (and finally dead-lettered) alone.
pub async fn handle_sqs(services: &Services, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let body = message.body.as_deref().unwrap_or_default();
        if let Err(why) = handle_body(services, body).await {
            tracing::warn!(message = %id, error = %why, "burn change failed; it will be retried");
            response.add_failure(id);
        }
    }
    response
}
