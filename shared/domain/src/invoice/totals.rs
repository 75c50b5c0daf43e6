//! Lines, discount and tax to totals, as EN 16931 adds them up:
//! - each line's net amount is rounded once (quantity x price, plus its own
//!   write-up or less its write-down, a line charge or allowance);
//! - the line total is the sum of the rounded line nets (BR-CO-10);
//! - the discount applies to the line total (tax-exclusive = lines - discount, BR-CO-13);
//! - tax is computed once per rate on that rate's taxable base, never summed
//!   from rounded line taxes; the tax total is the sum of the breakdown (BR-CO-14);
//! - total = tax-exclusive total + tax (BR-CO-15).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, MoneyRounding};

/// Decimals kept on a time line's hours.
pub const HOURS_DP: u32 = 4;

/// Hours a line bills for `minutes`: minutes / 60, half-up to [`HOURS_DP`]
/// decimals. The line is priced from exactly this figure, and it is the figure
/// printed, so quantity x unit price is always the amount (Kimai #3131).
pub fn hours(minutes: u64) -> Decimal {
    (Decimal::from(minutes) / Decimal::from(60)).round_dp_with_strategy(
        HOURS_DP,
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    )
}

/// A tenant's named tax rate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRateSpec {
    /// What lines and clients refer to, e.g. `VAT20`.
    pub code: String,
    /// What documents print, e.g. `VAT 20%`.
    pub name: String,
    pub percent: Decimal,
    /// The tax rate's display name in Xero (its `*TaxType` column).
    pub xero_tax_type: Option<String>,
    /// The QuickBooks Online tax code (its `*ItemTaxCode` column).
    pub qbo_tax_code: Option<String>,
}

/// A discount on the line total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discount {
    Percent(Decimal),
    Amount(Decimal),
}

/// One line before pricing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineInput {
    pub quantity: Decimal,
    pub unit_price: Decimal,
    /// Write-up (positive) or write-down (negative) of the line's amount.
    pub adjustment: Decimal,
    /// The rates this line is taxed at (none: untaxed).
    pub tax_codes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricedLine {
    /// quantity x unit price, rounded once.
    pub gross: Decimal,
    /// The line's net amount: gross plus its adjustment.
    pub amount: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxAmount {
    pub code: String,
    pub name: String,
    pub percent: Decimal,
    /// The base this rate is charged on: its lines' nets less their share of the discount.
    pub taxable: Decimal,
    pub amount: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub lines: Vec<PricedLine>,
    /// Sum of line net amounts (BR-CO-10).
    pub line_total: Decimal,
    pub discount_total: Decimal,
    /// Line total less discount (BR-CO-13).
    pub tax_exclusive: Decimal,
    pub tax_breakdown: Vec<TaxAmount>,
    /// Sum of the breakdown (BR-CO-14).
    pub tax_total: Decimal,
    /// Tax-exclusive total plus tax (BR-CO-15).
    pub total: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceMathError {
    #[error("line {0} names tax rate {1:?}, which is not one of the agency's tax rates")]
    UnknownTaxCode(usize, String),
    #[error("line {0} would have a negative amount")]
    NegativeLine(usize),
    #[error("a discount must be between 0 and the line total ({0})")]
    DiscountTooLarge(Decimal),
    #[error("a discount percent must be between 0 and 100")]
    DiscountPercent,
    #[error("the amounts are too large")]
    Overflow,
}

/// A line's gross amount: quantity x unit price, rounded once by `rule`.
pub fn line_amount(
    quantity: Decimal,
    unit_price: Decimal,
    currency: Currency,
    rule: MoneyRounding,
) -> Result<Decimal, InvoiceMathError> {
    let exact = quantity
        .checked_mul(unit_price)
        .ok_or(InvoiceMathError::Overflow)?;
    Ok(crate::money::Money::rounded(exact, currency, rule).amount)
}

/// Splits `total` over `weights` in proportion, in steps of the currency's
/// minor unit, so the parts add up to `total` exactly: each part is rounded
/// down and the leftover units go to the largest remainders (ties: first).
pub fn allocate(total: Decimal, weights: &[Decimal], currency: Currency) -> Vec<Decimal> {
    let sum: Decimal = weights.iter().copied().sum();
    if weights.is_empty() || sum.is_zero() {
        let mut out = vec![Decimal::ZERO; weights.len()];
        if let Some(first) = out.first_mut() {
            *first = total;
        }
        return out;
    }
    let unit = Decimal::new(1, currency.minor_units());
    let units = (total / unit).trunc();
    let mut parts = Vec::with_capacity(weights.len());
    let mut given = Decimal::ZERO;
    for (i, w) in weights.iter().enumerate() {
        let exact = units * *w / sum;
        let floor = exact.floor();
        given += floor;
        parts.push((i, floor, exact - floor));
    }
    let mut left = units - given;
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| parts[*b].2.cmp(&parts[*a].2).then(a.cmp(b)));
    for i in order {
        if left <= Decimal::ZERO {
            break;
        }
        parts[i].1 += Decimal::ONE;
        left -= Decimal::ONE;
    }
    parts.into_iter().map(|(_, p, _)| p * unit).collect()
}

/// Prices the lines and adds them up with `discount` and the tax `rates`.
pub fn price(
    lines: &[LineInput],
    discount: Option<Discount>,
    rates: &[TaxRateSpec],
    currency: Currency,
    rule: MoneyRounding,
) -> Result<Totals, InvoiceMathError> {
    let by_code: BTreeMap<&str, &TaxRateSpec> =
        rates.iter().map(|r| (r.code.as_str(), r)).collect();
    let mut priced = Vec::with_capacity(lines.len());
    // Lines taxed alike form one group, whose share of the discount is taken
    // off each of its rates' bases.
    let mut groups: BTreeMap<Vec<String>, Decimal> = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        let gross = line_amount(line.quantity, line.unit_price, currency, rule)?;
        let amount = gross
            .checked_add(line.adjustment)
            .ok_or(InvoiceMathError::Overflow)?;
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(InvoiceMathError::NegativeLine(i));
        }
        let mut codes = line.tax_codes.clone();
        codes.sort();
        codes.dedup();
        for c in &codes {
            if !by_code.contains_key(c.as_str()) {
                return Err(InvoiceMathError::UnknownTaxCode(i, c.clone()));
            }
        }
        *groups.entry(codes).or_default() += amount;
        priced.push(PricedLine { gross, amount });
    }
    let line_total: Decimal = priced.iter().map(|l| l.amount).sum();
    let discount_total = match discount {
        None => Decimal::ZERO,
        Some(Discount::Percent(p)) => {
            if p.is_sign_negative() || p > Decimal::ONE_HUNDRED {
                return Err(InvoiceMathError::DiscountPercent);
            }
            crate::money::Money::rounded(line_total * p / Decimal::ONE_HUNDRED, currency, rule)
                .amount
        }
        Some(Discount::Amount(a)) => {
            if a.is_sign_negative() || a > line_total {
                return Err(InvoiceMathError::DiscountTooLarge(line_total));
            }
            a
        }
    };
    let weights: Vec<Decimal> = groups.values().copied().collect();
    let shares = allocate(discount_total, &weights, currency);
    let mut taxable: BTreeMap<&str, Decimal> = BTreeMap::new();
    for ((codes, base), share) in groups.iter().zip(shares) {
        for c in codes {
            *taxable.entry(c.as_str()).or_default() += *base - share;
        }
    }
    let tax_breakdown: Vec<TaxAmount> = taxable
        .into_iter()
        .filter_map(|(code, base)| {
            let rate = by_code.get(code)?;
            let amount = crate::money::Money::rounded(
                base * rate.percent / Decimal::ONE_HUNDRED,
                currency,
                rule,
            )
            .amount;
            Some(TaxAmount {
                code: code.to_owned(),
                name: rate.name.clone(),
                percent: rate.percent,
                taxable: base,
                amount,
            })
        })
        .collect();
    let tax_total: Decimal = tax_breakdown.iter().map(|t| t.amount).sum();
    let tax_exclusive = line_total - discount_total;
    Ok(Totals {
        lines: priced,
        line_total,
        discount_total,
        tax_exclusive,
        tax_breakdown,
        tax_total,
        total: tax_exclusive + tax_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }
    fn vat(code: &str, percent: Decimal) -> TaxRateSpec {
        TaxRateSpec {
            code: code.into(),
            name: format!("VAT {percent}%"),
            percent,
            xero_tax_type: None,
            qbo_tax_code: None,
        }
    }
    fn line(q: Decimal, p: Decimal, codes: &[&str]) -> LineInput {
        LineInput {
            quantity: q,
            unit_price: p,
            adjustment: Decimal::ZERO,
            tax_codes: codes.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn two_quarter_hours_bill_what_one_half_hour_bills() {
        // Kimai PR #1424: 2 x 15 min at 27.50/h must not bill 13.76.
        let q = hours(15 + 15);
        assert_eq!(q, dec!(0.5));
        let a = line_amount(q, dec!(27.50), eur(), MoneyRounding::HalfUp).unwrap();
        assert_eq!(a, dec!(13.75));
        assert_eq!(
            line_amount(hours(30), dec!(27.50), eur(), MoneyRounding::HalfUp).unwrap(),
            a
        );
    }

    #[test]
    fn the_printed_hours_are_the_priced_hours() {
        // Kimai #3131: 50 minutes is printed and priced as the same 0.8333 h.
        let q = hours(50);
        assert_eq!(q, dec!(0.8333));
        let a = line_amount(q, dec!(90), eur(), MoneyRounding::HalfUp).unwrap();
        assert_eq!(a, dec!(75.00)); // 0.8333 x 90 = 74.997
    }

    #[test]
    fn tax_is_computed_once_per_rate_not_summed_from_lines() {
        // IN #11075: 50 lines of 241.67 at 20 % VAT are 2416.70 tax, not 2416.50.
        let lines: Vec<_> = (0..50)
            .map(|_| line(dec!(1), dec!(241.67), &["S20"]))
            .collect();
        let t = price(
            &lines,
            None,
            &[vat("S20", dec!(20))],
            eur(),
            MoneyRounding::HalfUp,
        )
        .unwrap();
        assert_eq!(t.line_total, dec!(12083.50));
        assert_eq!(t.tax_total, dec!(2416.70));
        assert_eq!(t.total, dec!(14500.20));
    }

    #[test]
    fn discount_comes_off_the_subtotal_before_tax_split_across_rates() {
        let rates = [vat("S20", dec!(20)), vat("R5", dec!(5))];
        let lines = [
            line(dec!(1), dec!(100), &["S20"]),
            line(dec!(1), dec!(50), &["R5"]),
        ];
        let t = price(
            &lines,
            Some(Discount::Amount(dec!(10))),
            &rates,
            eur(),
            MoneyRounding::HalfUp,
        )
        .unwrap();
        assert_eq!(t.discount_total, dec!(10));
        assert_eq!(t.tax_exclusive, dec!(140));
        let by: BTreeMap<_, _> = t
            .tax_breakdown
            .iter()
            .map(|b| (b.code.as_str(), b))
            .collect();
        // 10 split 2:1 -> 6.67 and 3.33 (largest remainder).
        assert_eq!(by["S20"].taxable, dec!(93.33));
        assert_eq!(by["R5"].taxable, dec!(46.67));
        assert_eq!(by["S20"].amount, dec!(18.67));
        assert_eq!(by["R5"].amount, dec!(2.33));
        assert_eq!(t.total, dec!(161.00));
    }

    #[test]
    fn unknown_tax_codes_and_oversized_discounts_are_refused() {
        let l = [line(dec!(1), dec!(10), &["NOPE"])];
        assert!(matches!(
            price(&l, None, &[], eur(), MoneyRounding::HalfUp),
            Err(InvoiceMathError::UnknownTaxCode(0, _))
        ));
        let l = [line(dec!(1), dec!(10), &[])];
        assert!(price(
            &l,
            Some(Discount::Amount(dec!(10.01))),
            &[],
            eur(),
            MoneyRounding::HalfUp
        )
        .is_err());
        assert!(price(
            &l,
            Some(Discount::Percent(dec!(101))),
            &[],
            eur(),
            MoneyRounding::HalfUp
        )
        .is_err());
    }

    #[test]
    fn allocation_adds_up_in_minor_units() {
        let parts = allocate(dec!(0.10), &[dec!(1), dec!(1), dec!(1)], eur());
        assert_eq!(parts, vec![dec!(0.04), dec!(0.03), dec!(0.03)]);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            allocate(dec!(5), &[dec!(1), dec!(1)], jpy),
            vec![dec!(3), dec!(2)]
        );
    }

    fn money() -> impl Strategy<Value = Decimal> {
        (0i64..5_000_000).prop_map(|c| Decimal::new(c, 2))
    }

    proptest! {
        /// The EN 16931 arithmetic on random lines, rates and discounts.
        #[test]
        fn en16931_totals_always_add_up(
            raw in prop::collection::vec((0i64..100_000, money(), 0usize..4, -500i64..500), 1..40),
            percent_discount in prop::option::of(0i64..10_000),
            amount_discount in prop::option::of(0i64..100_000),
            half_even in any::<bool>(),
        ) {
            let rates = [vat("A", dec!(20)), vat("B", dec!(7.7)), vat("C", dec!(0))];
            let rule = if half_even { MoneyRounding::HalfEven } else { MoneyRounding::HalfUp };
            let lines: Vec<LineInput> = raw.iter().map(|(q, p, r, adj)| {
                let quantity = Decimal::new(*q, 4);
                let gross = line_amount(quantity, *p, eur(), rule).unwrap();
                let adjustment = Decimal::new(*adj, 2).max(-gross);
                LineInput {
                    quantity,
                    unit_price: *p,
                    adjustment,
                    tax_codes: match r { 0 => vec![], 1 => vec!["A".into()], 2 => vec!["B".into()], _ => vec!["C".into()] },
                }
            }).collect();
            let discount = match (percent_discount, amount_discount) {
                (Some(p), _) => Some(Discount::Percent(Decimal::new(p, 2))),
                (None, Some(a)) => Some(Discount::Amount(Decimal::new(a, 2))),
                _ => None,
            };
            let t = match price(&lines, discount, &rates, eur(), rule) {
                Ok(t) => t,
                Err(InvoiceMathError::DiscountTooLarge(_)) => return Ok(()),
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            };
            // Every amount has at most two decimals.
            for a in t.lines.iter().map(|l| l.amount).chain([t.discount_total, t.tax_total, t.total])
                .chain(t.tax_breakdown.iter().flat_map(|b| [b.taxable, b.amount])) {
                prop_assert!(a.normalize().scale() <= 2, "{a}");
            }
            for (l, p) in lines.iter().zip(&t.lines) {
                prop_assert_eq!(p.amount, p.gross + l.adjustment);
            }
            // BR-CO-10, 13, 14, 15.
            prop_assert_eq!(t.line_total, t.lines.iter().map(|l| l.amount).sum::<Decimal>());
            prop_assert_eq!(t.tax_exclusive, t.line_total - t.discount_total);
            prop_assert_eq!(t.tax_total, t.tax_breakdown.iter().map(|b| b.amount).sum::<Decimal>());
            prop_assert_eq!(t.total, t.tax_exclusive + t.tax_total);
            // The taxable bases of untaxed and taxed lines together are the tax-exclusive total.
            let untaxed: Decimal = lines.iter().zip(&t.lines).filter(|(l, _)| l.tax_codes.is_empty()).map(|(_, p)| p.amount).sum();
            let bases: Decimal = t.tax_breakdown.iter().map(|b| b.taxable).sum();
            prop_assert!(bases <= t.tax_exclusive && bases + untaxed >= t.tax_exclusive);
            prop_assert!(t.discount_total <= t.line_total);
            for b in &t.tax_breakdown {
                let exact = b.taxable * b.percent / Decimal::ONE_HUNDRED;
                prop_assert!((b.amount - exact).abs() <= dec!(0.005));
            }
        }
    }
}
