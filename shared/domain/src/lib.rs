//! Pure agency rules: no I/O, no HTTP, no storage formats.

pub mod budget;
pub mod id;
pub mod invoice;
pub mod money;
pub mod project;
pub mod quantity;
pub mod rates;
pub mod receipt;
pub mod receivables;
pub mod roles;
pub mod rounding;
pub mod timesheet;
pub mod validate;

pub use id::Id;
pub use money::{Currency, Money, MoneyRounding};
pub use roles::Role;
