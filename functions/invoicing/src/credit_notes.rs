//! Credit notes: `POST /v1/invoices/{id}/credit-notes` amends an issued
//! invoice by lines, by an amount, or whole. Each has its own number from the
//! credit-note series (EU VAT art. 219), references the invoice, and reduces
//! its balance by exactly its total, never below zero (IN #9573, #11024).

use std::collections::HashMap;

use agencyops_domain::invoice::{self, InvoiceStatus, LineInput, PaymentState};
use agencyops_platform::error::Problems;
use agencyops_platform::resource::{self, audit};
use agencyops_platform::{access, ApiError, ApiResult, Caller, Conflict, Services, Tx, TxError};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::{self, from_item, is, Record};
use agencyops_store::records::{
    CreditNote, Invoice, InvoiceLine, InvoicingSettings, LineKind, LineUnit, NumberCounter,
};
use agencyops_store::{keys, Item, Key};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::drafts::create::manual_lines;
use crate::drafts::request::{check_lines, NewLine};
use crate::lifecycle::void::release_everything;
use crate::numbers::{self, ATTEMPTS};

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCreditNote {
    /// Why, as the client will read it.
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub reason: String,
    /// Credit these lines (taxed as the invoice's lines are, unless a line names its rate).
    #[serde(default)]
    #[schema(max_items = 200)]
    pub lines: Vec<NewLine>,
    /// Or credit this net amount, taxed at the invoice's default rates.
    #[serde(default, with = "agencyops_domain::quantity::money_option")]
    #[schema(value_type = Option<String>, pattern = r"^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$", example = "100.00")]
    pub amount: Option<Decimal>,
    /// Hand the invoice's time and expenses back to WIP, to bill again.
    #[serde(default)]
    pub release_work: bool,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub issue_date: Option<Date>,
}

fn take<R: Record>(found: &mut HashMap<Key, Item>, key: &Key) -> ApiResult<Option<R>> {
    match found.remove(key) {
        Some(i) if is::<R>(&i) => Ok(Some(from_item(i)?)),
        _ => Ok(None),
    }
}

/// The credit's lines: as asked, one line for an amount, or the whole invoice.
fn credit_lines(inv: &Invoice, body: &NewCreditNote) -> ApiResult<Vec<InvoiceLine>> {
    if !body.lines.is_empty() {
        return Ok(manual_lines(&body.lines, 0, &inv.default_tax_codes));
    }
    if let Some(amount) = body.amount {
        return Ok(vec![InvoiceLine {
            id: "C1".into(),
            kind: LineKind::Manual,
            description: format!("Credit: {}", body.reason.trim()),
            quantity: Decimal::ONE,
            unit: LineUnit::Each,
            unit_price: amount,
            adjustment: Decimal::ZERO,
            gross: Decimal::ZERO,
            amount: Decimal::ZERO,
            tax_codes: inv.default_tax_codes.clone(),
            minutes: None,
            project_id: None,
            milestone_id: None,
            work_count: 0,
            service_date: None,
        }]);
    }
    if !inv.amount_paid.is_zero() || !inv.amount_credited.is_zero() {
        return Err(ApiError::field(
            "amount",
            "the invoice was paid or credited in part: credit by lines or an amount",
        ));
    }
    // The whole invoice, with its discount spread over its lines as write-downs
    // so the credit's total is the invoice's.
    let mut lines = inv.lines.clone();
    let shares = invoice::allocate(
        inv.discount_total,
        &lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
        inv.currency,
    );
    for (l, share) in lines.iter_mut().zip(shares) {
        l.adjustment -= share;
    }
    Ok(lines)
}

pub async fn create(
    s: &Services,
    caller: &Caller,
    id: &str,
    body: NewCreditNote,
) -> ApiResult<(Invoice, CreditNote)> {
    access::require_bills(caller)?;
    let tenant = caller.tenant.as_str();
    let mut p = Problems::new();
    p.check(
        "reason",
        agencyops_domain::validate::name(&body.reason, 500),
    );
    check_lines(&mut p, "lines", &body.lines);
    if !body.lines.is_empty() && body.amount.is_some() {
        p.add("amount", "credit by lines or by an amount, not both");
    }
    p.finish()?;
    let inv_key = keys::invoice(tenant, id);
    let settings_key = keys::invoicing_settings(tenant);
    for _ in 0..ATTEMPTS {
        let mut found: HashMap<Key, Item> = s
            .table
            .batch_get(&[inv_key.clone(), settings_key.clone()])
            .await?
            .into_iter()
            .filter_map(|i| Some((Key::of(&i)?, i)))
            .collect();
        let inv: Invoice = take(&mut found, &inv_key)?.ok_or(ApiError::NotFound("invoice"))?;
        if !matches!(
            inv.status,
            InvoiceStatus::Issued | InvoiceStatus::PartiallyPaid
        ) {
            return Err(Conflict::InvoiceClosed(format!(
                "a {} invoice cannot be credited",
                inv.status
            ))
            .into());
        }
        if let Some(a) = body.amount {
            let mut p = Problems::new();
            p.check(
                "amount",
                agencyops_domain::validate::amount(&a, inv.currency.minor_units()),
            );
            p.finish()?;
        }
        let settings: InvoicingSettings = take(&mut found, &settings_key)?
            .unwrap_or_else(|| InvoicingSettings::defaults(s.clock.now()));
        let mut lines = credit_lines(&inv, &body)?;
        let inputs: Vec<LineInput> = lines
            .iter()
            .map(|l| LineInput {
                quantity: l.quantity,
                unit_price: l.unit_price,
                adjustment: l.adjustment,
                tax_codes: l.tax_codes.clone(),
            })
            .collect();
        let t = invoice::price(&inputs, None, &inv.tax_rates, inv.currency, inv.rounding)
            .map_err(|e| ApiError::field("lines", e.to_string()))?;
        for (l, priced) in lines.iter_mut().zip(&t.lines) {
            l.gross = priced.gross;
            l.amount = priced.amount;
        }
        if t.total <= Decimal::ZERO {
            return Err(ApiError::field(
                "amount",
                "a credit note credits more than nothing",
            ));
        }
        let balance = inv.balance_due();
        if t.total > balance {
            return Err(Conflict::ExceedsBalance(format!(
                "the credit of {} {} (with tax) is more than the balance due of {balance} {}; a credit never takes the balance below zero",
                t.total, inv.currency, inv.currency
            ))
            .into());
        }
        let today = s.clock.now().to_zoned(TimeZone::UTC).date();
        let date = body.issue_date.unwrap_or(today);
        let pattern = numbers::pattern(&settings.credit_note_pattern, "credit_note_pattern")?;
        let counter_key = keys::credit_note_counter(tenant, &pattern.series(date));
        let counter: Option<NumberCounter> = record::load(&*s.table, &counter_key).await?;
        let now = s.clock.now();
        let drawn = numbers::draw(tenant, &counter_key, counter, &pattern, date, now)?;
        let note = CreditNote {
            id: resource::new_id(),
            invoice_id: inv.id.clone(),
            client_id: inv.client_id.clone(),
            number: drawn.number.clone(),
            issue_date: date,
            currency: inv.currency,
            reason: body.reason.trim().to_owned(),
            lines,
            tax_rates: inv.tax_rates.clone(),
            rounding: inv.rounding,
            line_total: t.line_total,
            tax_breakdown: t.tax_breakdown,
            tax_total: t.tax_total,
            total: t.total,
            released_work: body.release_work,
            created_by: caller.person.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut next = inv.clone();
        next.amount_credited += note.total;
        next.status = PaymentState {
            total: inv.total,
            paid: inv.amount_paid,
            credited: next.amount_credited,
        }
        .status();
        next.credit_note_ids.push(note.id.clone());
        agencyops_store::record::bump(&mut next, now);
        // Every write fails the same way: the invoice or the counter moved
        // meanwhile, so read both again.
        let mut tx: Tx<()> = Tx::new(tenant).contended(());
        tx.create(&note, ())?;
        tx.replace(&next, inv.version, ())?;
        tx.push(drawn.write, ());
        tx.push(
            audit(
                s,
                caller,
                AuditAction::Credit,
                Some(&inv),
                Some(&next),
                &inv.id,
            )?,
            (),
        );
        match tx.run(&*s.table).await {
            Ok(()) => {
                if body.release_work {
                    release_everything(s, tenant, &next).await?;
                }
                return Ok((next, note));
            }
            Err(TxError::Failed(())) => continue,
            Err(TxError::Store(e)) => return Err(e.into()),
        }
    }
    Err(ApiError::changed("the invoice kept changing; retry"))
}
