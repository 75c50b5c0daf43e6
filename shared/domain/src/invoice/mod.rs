//! Invoice maths, pure: how work becomes priced lines, how discount and tax
//! make totals (the EN 16931 arithmetic), how numbers are formed, and which
//! states an invoice moves through. Every rounding happens in one named place:
//!
//! | place | rule |
//! |---|---|
//! | hours on a time line | [`hours`]: billed minutes / 60, half-up to [`HOURS_DP`] decimals |
//! | line net amount | quantity x unit price, then [`MoneyRounding`] to the minor unit, once |
//! | percent discount | percent of the line total, [`MoneyRounding`] to the minor unit |
//! | discount per tax rate | [`allocate`]: proportional, largest remainder, in minor units |
//! | tax per rate | rate x that rate's taxable base, [`MoneyRounding`], once per rate |
//!
//! Nothing else rounds: the tax total is the sum of the breakdown, the total
//! is the tax-exclusive total plus tax, so every figure adds up exactly.

pub mod numbering;
pub mod status;
pub mod totals;

pub use numbering::{NumberPattern, PatternError};
pub use status::{InvoiceStatus, PaymentState};
pub use totals::{
    allocate, hours, line_amount, price, Discount, InvoiceMathError, LineInput, PricedLine,
    TaxAmount, TaxRateSpec, Totals, HOURS_DP,
};

pub use crate::money::MoneyRounding;
