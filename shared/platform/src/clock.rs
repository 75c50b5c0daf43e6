//! The Clock port: system time in AWS; settable locally and in tests, so aging,
//! expiry and reminders can be exercised on any date without sleeping.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until told to move.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    pub fn at(t: Timestamp) -> Self {
        ManualClock(Arc::new(Mutex::new(t)))
    }
    pub fn set(&self, t: Timestamp) {
        if let Ok(mut g) = self.0.lock() {
            *g = t;
        }
    }
    pub fn advance(&self, by: SignedDuration) {
        if let Ok(mut g) = self.0.lock() {
            *g = g.checked_add(by).unwrap_or(*g);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0
            .lock()
            .map(|g| *g)
            .unwrap_or_else(|_| Timestamp::now())
    }
}
