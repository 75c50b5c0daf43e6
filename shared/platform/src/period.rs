//! The lock date (period close). Every write of dated work loads it, refuses
//! dates on or before it, and pins the version it saw in its own transaction,
//! so a lock set while the write is in flight makes the write fail.

use agencyops_domain::timesheet::is_locked;
use agencyops_store::record::load;
use agencyops_store::records::LockDate;
use agencyops_store::{keys, Condition, Write};
use jiff::civil::Date;
use jiff::Timestamp;

use crate::error::{ApiError, ApiResult};
use crate::services::Services;

pub struct Period {
    pub lock: LockDate,
}

impl Period {
    pub async fn load(s: &Services, tenant: &str) -> ApiResult<Period> {
        let stored = load::<LockDate>(&*s.table, &keys::lock_date(tenant)).await?;
        Ok(Period::of(stored, s.clock.now()))
    }

    /// The period as the stored lock date (none: never set) makes it.
    pub fn of(stored: Option<LockDate>, now: Timestamp) -> Period {
        Period {
            lock: stored.unwrap_or_else(|| LockDate::none(now)),
        }
    }

    /// Refuses work dated in the closed period.
    pub fn check(&self, date: Date) -> ApiResult<()> {
        match self.lock.lock_date {
            Some(lock) if is_locked(date, Some(lock)) => Err(ApiError::locked(format!(
                "{date} is on or before the lock date {lock}; that period is closed"
            ))),
            _ => Ok(()),
        }
    }

    /// A transaction step that fails if the lock date changed since it was read.
    pub fn pin(&self, tenant: &str) -> Write {
        let condition = if self.lock.version == 0 {
            Condition::NotExists
        } else {
            Condition::VersionIs(self.lock.version)
        };
        Write::Check {
            key: keys::lock_date(tenant),
            condition,
        }
    }
}
