//! The states an invoice moves through. A draft has no number; issuing gives
//! it one for ever; payments and credit notes move it between issued,
//! partially paid and paid; void and uncollectible end it.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// A large draft still claiming its work through the builder queue.
    Building,
    Draft,
    Issued,
    PartiallyPaid,
    Paid,
    /// Cancelled after issue: keeps its number, bills nothing.
    Void,
    /// Written off: nothing more is expected.
    Uncollectible,
}

impl InvoiceStatus {
    /// Before issue: editable, numberless, invisible to the client.
    pub fn is_draft(self) -> bool {
        matches!(self, InvoiceStatus::Building | InvoiceStatus::Draft)
    }
    /// Issued and still expecting money.
    pub fn is_open(self) -> bool {
        matches!(self, InvoiceStatus::Issued | InvoiceStatus::PartiallyPaid)
    }
    /// Holds its work: every state but void (a deleted draft is gone).
    pub fn holds_work(self) -> bool {
        self != InvoiceStatus::Void
    }
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Building => "building",
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Issued => "issued",
            InvoiceStatus::PartiallyPaid => "partially_paid",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
            InvoiceStatus::Uncollectible => "uncollectible",
        }
    }
}

impl std::fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an issued invoice's money says its state is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaymentState {
    pub total: Decimal,
    pub paid: Decimal,
    pub credited: Decimal,
}

impl PaymentState {
    /// Total less what was paid and credited (never below zero: payments and
    /// credits above the balance are refused before they are recorded).
    pub fn balance_due(&self) -> Decimal {
        (self.total - self.paid - self.credited).max(Decimal::ZERO)
    }
    /// Issued, partially paid or paid, from the figures alone. A credit note
    /// that brings the balance to zero closes the invoice as paid.
    pub fn status(&self) -> InvoiceStatus {
        if self.balance_due().is_zero() {
            InvoiceStatus::Paid
        } else if self.paid.is_zero() && self.credited.is_zero() {
            InvoiceStatus::Issued
        } else {
            InvoiceStatus::PartiallyPaid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn payments_and_credits_move_the_state_by_the_balance() {
        let s = |paid, credited| PaymentState {
            total: dec!(50.00),
            paid,
            credited,
        };
        assert_eq!(s(dec!(0), dec!(0)).status(), InvoiceStatus::Issued);
        // IN #9573: a 10 credit on a 50 invoice leaves 40 owed, not "paid".
        assert_eq!(s(dec!(0), dec!(10)).status(), InvoiceStatus::PartiallyPaid);
        assert_eq!(s(dec!(0), dec!(10)).balance_due(), dec!(40.00));
        assert_eq!(s(dec!(40), dec!(10)).status(), InvoiceStatus::Paid);
        assert_eq!(s(dec!(0), dec!(50)).status(), InvoiceStatus::Paid);
    }
}
