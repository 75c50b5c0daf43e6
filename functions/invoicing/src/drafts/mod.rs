//! Drafting invoices: from the request ([`request`]) to priced lines
//! ([`lines`], pure) and claimed work ([`create`], [`build`]), and the edits
//! a draft takes before it is issued ([`edit`]).

pub mod build;
pub mod create;
pub mod edit;
pub mod lines;
pub mod request;
