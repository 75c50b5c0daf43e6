//! The clients a function builds once at cold start and shares with every request.

use std::sync::Arc;

use agencyops_store::Table;

use crate::clock::Clock;
use crate::cursor::Cursors;

#[derive(Clone)]
pub struct Services {
    pub table: Arc<dyn Table>,
    pub clock: Arc<dyn Clock>,
    pub cursors: Cursors,
    pub idempotency_ttl_secs: i64,
}
