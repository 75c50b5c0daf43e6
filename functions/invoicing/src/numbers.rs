//! The next number of a series, gapless: the counter is read, and written
//! under the value read in the same transaction that gives the number out.
//! Two issuers racing for one number: one commits, the other reads again.

use agencyops_domain::invoice::NumberPattern;
use agencyops_platform::{ApiError, ApiResult};
use agencyops_store::record;
use agencyops_store::records::NumberCounter;
use agencyops_store::{Key, Write};
use jiff::civil::Date;
use jiff::Timestamp;

/// Attempts at a number while other issues take the ones read.
pub const ATTEMPTS: usize = 60;

/// A number drawn from a counter, with the write that takes it.
pub struct Drawn {
    pub number: String,
    pub write: Write,
}

pub fn pattern(text: &str, field: &str) -> ApiResult<NumberPattern> {
    NumberPattern::parse(text).map_err(|e| ApiError::field(field, e.to_string()))
}

/// The counter's id for a series (`INVOICE#2026`) from its key.
pub fn counter_id(key: &Key) -> String {
    key.sk.clone()
}

/// Draws the number after `stored` (None: the series is new).
pub fn draw(
    tenant: &str,
    key: &Key,
    stored: Option<NumberCounter>,
    pattern: &NumberPattern,
    date: Date,
    now: Timestamp,
) -> ApiResult<Drawn> {
    let mut counter = stored.unwrap_or(NumberCounter {
        id: counter_id(key),
        last: 0,
        version: 0,
        updated_at: now,
    });
    counter.last += 1;
    let expected = record::bump(&mut counter, now);
    Ok(Drawn {
        number: pattern.format(date, counter.last),
        write: record::save(tenant, &counter, expected)?,
    })
}
