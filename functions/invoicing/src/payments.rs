//! Payments: `POST /v1/invoices/{id}/payments` records money received and
//! moves the balance by exactly its amount; a payment above the balance is
//! refused. `DELETE …/payments/{pid}` (admin, finance) reverses one, audited.
//! One read and one transaction each: the payment, the invoice under its
//! version (so a payment racing a void or another payment loses cleanly), audit.

use agencyops_domain::invoice::{InvoiceStatus, PaymentState};
use agencyops_platform::error::Problems;
use agencyops_platform::resource;
use agencyops_platform::{access, ApiError, ApiResult, Caller, Conflict, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::keys;
use agencyops_store::record::load;
use agencyops_store::records::{Invoice, Payment};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::view::InvoiceParts;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    BankTransfer,
    Card,
    Cash,
    Check,
    DirectDebit,
    Other,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Card => "card",
            PaymentMethod::Cash => "cash",
            PaymentMethod::Check => "check",
            PaymentMethod::DirectDebit => "direct_debit",
            PaymentMethod::Other => "other",
        }
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// In the invoice's currency, as a string.
    #[serde(with = "agencyops_domain::quantity::money")]
    #[schema(value_type = String, pattern = r"^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$", example = "500.00")]
    pub amount: Decimal,
    #[schema(value_type = String, format = Date, example = "2026-12-01")]
    pub date: Date,
    pub method: PaymentMethod,
    #[serde(default)]
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub reference: Option<String>,
}

fn figures(inv: &Invoice) -> PaymentState {
    PaymentState {
        total: inv.total,
        paid: inv.amount_paid,
        credited: inv.amount_credited,
    }
}

async fn fetch(s: &Services, tenant: &str, id: &str) -> ApiResult<Invoice> {
    load::<Invoice>(&*s.table, &keys::invoice(tenant, id))
        .await?
        .ok_or(ApiError::NotFound("invoice"))
}

/// A recorded payment: the invoice after it and everything the invoice's
/// view shows, so the answer needs no second read.
pub struct Recorded {
    pub invoice: Invoice,
    pub payment: Payment,
    pub parts: InvoiceParts,
}

/// Records a payment: one query of the invoice's partition (the invoice, its
/// payments and credits) and one transaction. With an Idempotency-Key the
/// payment's id comes from it: a retry after a lost reply (the payment
/// written, the answer not) returns that payment instead of refusing a
/// now-paid invoice or paying twice.
pub async fn record_payment(
    s: &Services,
    caller: &Caller,
    id: &str,
    body: NewPayment,
    idempotency_key: Option<&str>,
) -> ApiResult<Recorded> {
    access::require_bills(caller)?;
    let tenant = caller.tenant.as_str();
    let (inv, mut parts) = crate::reads::load_visible(s, caller, id).await?;
    let keyed = idempotency_key.map(|k| resource::keyed_id(caller, k));
    let earlier = keyed
        .as_ref()
        .and_then(|k| parts.payments.iter().find(|p| &p.id == k))
        .cloned();
    // A key reused for another payment once its record expired names a new one.
    let keyed = keyed.filter(|_| earlier.is_none());
    if let Some(earlier) = earlier {
        let same = earlier.amount == body.amount
            && earlier.date == body.date
            && earlier.method == body.method.as_str()
            && earlier.reversed_at.is_none();
        if same {
            return Ok(Recorded {
                invoice: inv,
                payment: earlier,
                parts,
            });
        }
    }
    let mut p = Problems::new();
    p.check(
        "amount",
        agencyops_domain::validate::amount(&body.amount, inv.currency.minor_units()),
    );
    if let Some(r) = &body.reference {
        p.check("reference", agencyops_domain::validate::name(r, 200));
    }
    p.finish()?;
    if !inv.status.is_open() {
        return Err(
            Conflict::InvoiceClosed(format!("a {} invoice takes no payments", inv.status)).into(),
        );
    }
    let balance = inv.balance_due();
    if body.amount > balance {
        return Err(Conflict::ExceedsBalance(format!(
            "the payment of {} {} is more than the balance due of {balance} {}",
            body.amount, inv.currency, inv.currency
        ))
        .into());
    }
    let now = s.clock.now();
    let payment = Payment {
        id: keyed.unwrap_or_else(resource::new_id),
        invoice_id: inv.id.clone(),
        amount: body.amount,
        currency: inv.currency,
        date: body.date,
        method: body.method.as_str().into(),
        reference: body.reference.map(|r| r.trim().to_owned()),
        recorded_by: caller.person.clone(),
        reversed_at: None,
        reversed_by: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let mut next = inv.clone();
    next.amount_paid += payment.amount;
    next.status = PaymentState {
        paid: next.amount_paid,
        ..figures(&inv)
    }
    .status();
    agencyops_store::record::bump(&mut next, now);
    const RACED: &str = "the invoice changed while the payment was recorded (another payment, a credit or a void); reload and retry";
    let mut tx = Tx::new(tenant).contended(Fails::changed(RACED));
    tx.create(&payment, Fails::Retry)?;
    tx.replace(&next, inv.version, Fails::changed(RACED))?;
    tx.audit(
        s,
        caller,
        AuditAction::RecordPayment,
        Some(&inv),
        Some(&next),
        &inv.id,
    )?;
    tx.commit(s).await?;
    parts.payments.push(payment.clone());
    parts
        .payments
        .sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    Ok(Recorded {
        invoice: next,
        payment,
        parts,
    })
}

pub async fn reverse_payment(
    s: &Services,
    caller: &Caller,
    id: &str,
    payment_id: &str,
) -> ApiResult<Invoice> {
    access::require_bills(caller)?;
    let tenant = caller.tenant.as_str();
    let inv = fetch(s, tenant, id).await?;
    let payment = load::<Payment>(&*s.table, &keys::payment(tenant, id, payment_id))
        .await?
        .ok_or(ApiError::NotFound("payment"))?;
    if payment.reversed_at.is_some() {
        return Ok(inv);
    }
    if matches!(
        inv.status,
        InvoiceStatus::Void | InvoiceStatus::Uncollectible
    ) {
        return Err(Conflict::InvoiceClosed(format!(
            "a {} invoice's payments stay as they are",
            inv.status
        ))
        .into());
    }
    let now = s.clock.now();
    let mut reversed = payment.clone();
    reversed.reversed_at = Some(now);
    reversed.reversed_by = Some(caller.person.clone());
    agencyops_store::record::bump(&mut reversed, now);
    let mut next = inv.clone();
    next.amount_paid -= payment.amount;
    next.status = PaymentState {
        paid: next.amount_paid,
        ..figures(&inv)
    }
    .status();
    agencyops_store::record::bump(&mut next, now);
    const RACED: &str = "the invoice changed meanwhile; reload and retry";
    let mut tx = Tx::new(tenant).contended(Fails::changed(RACED));
    tx.replace(&reversed, payment.version, Fails::changed(RACED))?;
    tx.replace(&next, inv.version, Fails::changed(RACED))?;
    tx.audit(
        s,
        caller,
        AuditAction::ReversePayment,
        Some(&inv),
        Some(&next),
        &inv.id,
    )?;
    tx.commit(s).await?;
    Ok(next)
}
