//! What an invoice or credit note says on paper, and the formats it leaves in:
//! PDF and HTML for people, UBL 2.1 for e-invoicing, CSV for Xero and
//! QuickBooks. Renderers are pure functions of an [`InvoiceDocument`], which the
//! operations build from the stored invoice once, so every format shows the
//! same figures (IN #10936: the PDF and the screen must never disagree).

pub mod model;

pub use model::*;
