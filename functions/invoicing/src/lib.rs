//! The invoicing function: approved work becomes exact, numbered invoices,
//! billed exactly once; payments and credit notes settle them; documents and
//! exports carry them to clients and accounting tools.

pub mod documents;

pub const FUNCTION: &str = "invoicing";
