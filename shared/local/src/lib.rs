//! The local host: the same routers the Lambda functions serve, mounted in one
//! process over the embedded store, with dev tokens and demo data.

pub mod calls;
pub mod datadir;
pub mod demo;
mod demo_followups;
mod demo_invoices;
mod demo_time;
pub mod host;
pub mod jobs;
