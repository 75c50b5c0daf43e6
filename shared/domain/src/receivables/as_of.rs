//! What an invoice owed on a past day (Invoice Ninja users ask for aging as
//! of a date: #2746, #7121): only what had happened by then counts. An invoice
//! issued later owed nothing yet; a payment or credit note dated later had not
//! reduced it; a payment reversed later still counted then; an invoice voided
//! or written off later was still owed.

use jiff::civil::Date;
use rust_decimal::Decimal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MovementKind {
    Payment,
    CreditNote,
}

/// Money that reduced the balance from `date`, until `undone_on` (a reversal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Movement {
    pub kind: MovementKind,
    pub date: Date,
    pub amount: Decimal,
    pub undone_on: Option<Date>,
}

impl Movement {
    /// Whether it had reduced the balance by the end of `day`.
    pub fn counts_on(&self, day: Date) -> bool {
        self.date <= day && self.undone_on.is_none_or(|u| u > day)
    }
}

/// How an invoice stopped being owed other than by being paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Void(Date),
    WrittenOff(Date),
}

impl Ending {
    pub fn date(self) -> Date {
        match self {
            Ending::Void(d) | Ending::WrittenOff(d) => d,
        }
    }
}

/// What the balance of an issued invoice depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceFacts {
    pub issue_date: Date,
    pub total: Decimal,
    pub movements: Vec<Movement>,
    pub ending: Option<Ending>,
}

impl InvoiceFacts {
    /// The balance owed at the end of `day`; `None` when the invoice was not
    /// receivable that day (not yet issued, or already void or written off).
    pub fn balance_on(&self, day: Date) -> Option<Decimal> {
        if self.issue_date > day || self.ending.is_some_and(|e| e.date() <= day) {
            return None;
        }
        let reduced: Decimal = self
            .movements
            .iter()
            .filter(|m| m.counts_on(day))
            .map(|m| m.amount)
            .sum();
        Some((self.total - reduced).max(Decimal::ZERO))
    }

    /// The day the balance reached zero and stayed there, and whether a payment
    /// (rather than a credit note) did it; `None` while anything is owed.
    pub fn settled(&self) -> Option<(Date, MovementKind)> {
        let mut live: Vec<&Movement> = self
            .movements
            .iter()
            .filter(|m| m.undone_on.is_none())
            .collect();
        live.sort_by_key(|m| (m.date, m.kind == MovementKind::Payment));
        let mut reduced = Decimal::ZERO;
        for m in live {
            reduced += m.amount;
            if reduced >= self.total {
                return Some((m.date, m.kind));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }
    fn pay(date: &str, amount: Decimal) -> Movement {
        Movement {
            kind: MovementKind::Payment,
            date: d(date),
            amount,
            undone_on: None,
        }
    }

    fn invoice() -> InvoiceFacts {
        InvoiceFacts {
            issue_date: d("2026-01-10"),
            total: dec!(1000),
            movements: vec![
                pay("2026-02-01", dec!(300)),
                Movement {
                    kind: MovementKind::CreditNote,
                    date: d("2026-03-01"),
                    amount: dec!(200),
                    undone_on: None,
                },
                Movement {
                    undone_on: Some(d("2026-03-20")),
                    ..pay("2026-03-10", dec!(500))
                },
            ],
            ending: None,
        }
    }

    #[test]
    fn later_payments_and_credits_do_not_count_as_of_an_earlier_day() {
        let inv = invoice();
        assert_eq!(inv.balance_on(d("2026-01-09")), None, "not issued yet");
        assert_eq!(inv.balance_on(d("2026-01-10")), Some(dec!(1000)));
        assert_eq!(inv.balance_on(d("2026-01-31")), Some(dec!(1000)));
        assert_eq!(inv.balance_on(d("2026-02-01")), Some(dec!(700)));
        assert_eq!(inv.balance_on(d("2026-03-01")), Some(dec!(500)));
        assert_eq!(
            inv.balance_on(d("2026-03-15")),
            Some(dec!(0)),
            "a payment reversed later still counted then"
        );
        assert_eq!(inv.balance_on(d("2026-03-20")), Some(dec!(500)));
    }

    #[test]
    fn void_and_write_off_end_the_balance_from_their_day_only() {
        let mut inv = invoice();
        inv.ending = Some(Ending::WrittenOff(d("2026-04-01")));
        assert_eq!(inv.balance_on(d("2026-03-31")), Some(dec!(500)));
        assert_eq!(inv.balance_on(d("2026-04-01")), None);
        inv.ending = Some(Ending::Void(d("2026-01-15")));
        assert_eq!(inv.balance_on(d("2026-01-14")), Some(dec!(1000)));
        assert_eq!(inv.balance_on(d("2026-01-15")), None);
    }

    #[test]
    fn settled_by_the_movement_that_reached_the_total() {
        let mut inv = invoice();
        assert_eq!(inv.settled(), None, "500 is still owed");
        inv.movements.push(pay("2026-04-02", dec!(500)));
        assert_eq!(
            inv.settled(),
            Some((d("2026-04-02"), MovementKind::Payment))
        );
        let credited = InvoiceFacts {
            movements: vec![
                pay("2026-02-01", dec!(600)),
                Movement {
                    kind: MovementKind::CreditNote,
                    date: d("2026-02-05"),
                    amount: dec!(400),
                    undone_on: None,
                },
            ],
            ..invoice()
        };
        assert_eq!(
            credited.settled(),
            Some((d("2026-02-05"), MovementKind::CreditNote))
        );
    }

    proptest! {
        /// As of any day the balance is between zero and the total, and never
        /// grows while payments only accumulate.
        #[test]
        fn balances_stay_between_zero_and_total(
            amounts in proptest::collection::vec(0u32..500, 0..6),
            a in 0i64..120, b in 0i64..120,
        ) {
            let start = d("2026-01-01");
            let movements: Vec<Movement> = amounts.iter().enumerate().map(|(i, x)| Movement {
                kind: MovementKind::Payment,
                date: start.checked_add(jiff::Span::new().days(i as i64 * 15)).unwrap(),
                amount: Decimal::from(*x),
                undone_on: None,
            }).collect();
            let inv = InvoiceFacts { issue_date: start, total: dec!(1000), movements, ending: None };
            let (lo, hi) = (a.min(b), a.max(b));
            let day = |n: i64| start.checked_add(jiff::Span::new().days(n)).unwrap();
            let early = inv.balance_on(day(lo)).unwrap();
            let late = inv.balance_on(day(hi)).unwrap();
            prop_assert!(late <= early);
            prop_assert!(late >= Decimal::ZERO && early <= dec!(1000));
        }
    }
}
