//! `PATCH /v1/invoices/{id}` (If-Match): what a draft may change before it is
//! issued. Removing a time or expense line hands its work back to WIP first
//! (batch by batch), then the draft is rewritten under its version. Issued
//! invoices never change.

use std::collections::BTreeSet;

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_platform::error::Problems;
use agencyops_platform::extract::{nullable, IfMatch};
use agencyops_platform::{access, ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::audit::AuditAction;
use agencyops_store::keys;
use agencyops_store::record::load;
use agencyops_store::records::{Invoice, LineKind};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use super::create::{manual_lines, reprice};
use super::lines;
use super::request::{
    check_discount, check_lines, check_text, DiscountInput, NewLine, MAX_DESCRIPTION,
};
use crate::claims;
use crate::lifecycle::void::save;

/// A change to one line.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinePatch {
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub id: String,
    #[serde(default)]
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub description: Option<String>,
    /// Write-up (positive) or write-down (negative) of the line's amount, in
    /// the invoice's currency; the difference is kept and reported.
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^-?(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$", example = "-150.00")]
    pub adjustment: Option<Decimal>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicePatch {
    /// Lines to take off; their work goes back to WIP.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub remove_lines: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 200)]
    pub lines: Vec<LinePatch>,
    #[serde(default)]
    #[schema(max_items = 200)]
    pub add_lines: Vec<NewLine>,
    /// `null` removes the discount.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(nullable)]
    pub discount: Option<Option<DiscountInput>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub internal_note: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    pub po_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date)]
    pub issue_date: Option<Option<Date>>,
    /// `null`: the client's payment terms decide on issue.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Option<Date>>,
}

/// Only staff who may draft change a draft; a manager only over projects they are on.
pub async fn require_changes_draft(s: &Services, caller: &Caller, inv: &Invoice) -> ApiResult<()> {
    access::require_drafts_invoices(caller)?;
    let mut projects: BTreeSet<String> = inv
        .selection
        .iter()
        .flat_map(|s| s.project_ids.iter().cloned())
        .collect();
    projects.extend(inv.lines.iter().filter_map(|l| l.project_id.clone()));
    if caller.role == agencyops_domain::Role::Manager && projects.is_empty() {
        return Err(ApiError::forbidden(
            "managers change only drafts of projects they are on",
        ));
    }
    access::require_drafts_for_projects(s, caller, &projects.into_iter().collect::<Vec<_>>()).await
}

fn check(body: &InvoicePatch, inv: &Invoice) -> ApiResult<()> {
    let mut p = Problems::new();
    for (i, id) in body.remove_lines.iter().enumerate() {
        if !inv.lines.iter().any(|l| &l.id == id) {
            p.add(format!("remove_lines[{i}]"), "no such line on this invoice");
        }
    }
    for (i, l) in body.lines.iter().enumerate() {
        if !inv.lines.iter().any(|x| x.id == l.id) || body.remove_lines.contains(&l.id) {
            p.add(format!("lines[{i}].id"), "no such line on this invoice");
        }
        if let Some(d) = &l.description {
            p.check(
                format!("lines[{i}].description"),
                agencyops_domain::validate::name(d, MAX_DESCRIPTION),
            );
        }
        if let Some(a) = l.adjustment {
            if a.normalize().scale() > inv.currency.minor_units()
                || a.abs() >= Decimal::from(1_000_000_000_000i64)
            {
                p.add(
                    format!("lines[{i}].adjustment"),
                    format!(
                        "at most {} decimals in {}",
                        inv.currency.minor_units(),
                        inv.currency
                    ),
                );
            }
        }
    }
    check_lines(&mut p, "add_lines", &body.add_lines);
    if let Some(d) = &body.discount {
        check_discount(&mut p, d.as_ref());
    }
    check_text(
        &mut p,
        "notes",
        body.notes.as_ref().and_then(|n| n.as_deref()),
        2000,
    );
    check_text(
        &mut p,
        "internal_note",
        body.internal_note.as_ref().and_then(|n| n.as_deref()),
        2000,
    );
    if let Some(Some(po)) = &body.po_number {
        p.check("po_number", agencyops_domain::validate::name(po, 64));
    }
    p.finish()
}

pub async fn patch(
    s: &Services,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    body: InvoicePatch,
) -> ApiResult<Invoice> {
    let tenant = caller.tenant.as_str();
    let inv = load::<Invoice>(&*s.table, &keys::invoice(tenant, id))
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    require_changes_draft(s, caller, &inv).await?;
    match inv.status {
        InvoiceStatus::Draft => {}
        InvoiceStatus::Building => return Err(Conflict::StillBuilding.into()),
        _ => {
            return Err(Conflict::NotADraft(
                "an issued invoice never changes; issue a credit note".into(),
            )
            .into())
        }
    }
    if let IfMatch(Some(v)) = if_match {
        if v != inv.version {
            return Err(ApiError::PreconditionFailed);
        }
    }
    check(&body, &inv)?;
    let mut next = inv.clone();
    let removed: BTreeSet<&str> = body.remove_lines.iter().map(String::as_str).collect();
    let releases_work = inv.lines.iter().any(|l| {
        removed.contains(l.id.as_str())
            && matches!(
                l.kind,
                LineKind::Time | LineKind::Expense | LineKind::Milestone
            )
    });
    next.lines.retain(|l| !removed.contains(l.id.as_str()));
    for change in &body.lines {
        if let Some(line) = next.lines.iter_mut().find(|l| l.id == change.id) {
            if let Some(d) = &change.description {
                line.description = d.trim().to_owned();
            }
            if let Some(a) = change.adjustment {
                line.adjustment = a;
            }
        }
    }
    let taken = next
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Manual)
        .count()
        + inv.lines.len();
    next.lines
        .extend(manual_lines(&body.add_lines, taken, &inv.default_tax_codes));
    if let Some(d) = &body.discount {
        next.discount = d
            .as_ref()
            .and_then(|d| lines::discount(d.percent, d.amount));
    }
    if let Some(n) = &body.notes {
        next.notes = n.clone();
    }
    if let Some(n) = &body.internal_note {
        next.internal_note = n.clone();
    }
    if let Some(n) = &body.po_number {
        next.po_number = n.clone();
    }
    if let Some(d) = body.issue_date {
        next.issue_date = d;
    }
    if let Some(d) = body.due_date {
        next.due_date = d;
        next.due_date_fixed = d.is_some();
    }
    if let (Some(i), Some(d)) = (next.issue_date, next.due_date) {
        if d < i {
            return Err(ApiError::field(
                "due_date",
                "must not be before the issue date",
            ));
        }
    }
    reprice(&mut next)?;
    if releases_work {
        claims::release_all(s, tenant, &inv, |w| removed.contains(w.line_id.as_str())).await?;
        for line in inv
            .lines
            .iter()
            .filter(|l| removed.contains(l.id.as_str()) && l.kind == LineKind::Milestone)
        {
            crate::lifecycle::void::release_milestone(s, tenant, &inv, line).await?;
        }
    }
    save(s, caller, &inv, next, AuditAction::Update, Vec::new()).await
}
