//! The records every function stores. Functions read each other's (rates,
//! projects, people, time), so they live here rather than in any one function.

mod activity;
mod ar_snapshot;
mod clients;
mod dunning;
mod expenses;
mod intake;
mod invoices;
mod mail;
mod people;
mod projects;
mod receipts;
mod recurring;
mod settings;
mod time;

pub use activity::*;
pub use ar_snapshot::*;
pub use clients::*;
pub use dunning::*;
pub use expenses::*;
pub use intake::*;
pub use invoices::*;
pub use mail::*;
pub use people::*;
pub use projects::*;
pub use receipts::*;
pub use recurring::*;
pub use settings::*;
pub use time::*;

/// Implements the boilerplate accessors of `Record` for a struct with `id` and `version`.
macro_rules! versioned {
    ($kind:literal) => {
        const KIND: &'static str = $kind;
        fn id(&self) -> &str {
            &self.id
        }
        fn version(&self) -> u64 {
            self.version
        }
        fn set_version(&mut self, version: u64) {
            self.version = version;
        }
        fn touch(&mut self, at: jiff::Timestamp) {
            self.updated_at = at;
        }
    };
}
pub(crate) use versioned;
