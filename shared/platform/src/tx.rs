//! One transaction builder. Each write is pushed with what a failure of its
//! condition means, so an operation says so where it builds the write, and a
//! failed condition becomes that meaning here, in one place, instead of in a
//! hand-written match on write positions that drifts when a write is added.

use std::borrow::Cow;

use agencyops_store::audit::AuditAction;
use agencyops_store::record::{self, Record};
use agencyops_store::{Condition, Key, StoreError, StoreResult, Table, Write, MAX_TRANSACT_ITEMS};

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::resource;
use crate::services::Services;

/// What the failed condition of one write means to the caller of an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fails {
    /// The record the caller is changing is no longer the version they read:
    /// 412 when they named that version (If-Match, see [`Tx::if_match`]),
    /// otherwise 409 changed-concurrently with this message.
    Stale(Cow<'static, str>),
    /// Something this write relies on changed meanwhile: 409 changed-concurrently.
    Changed(Cow<'static, str>),
    /// The record's key is taken: 409 already-exists.
    AlreadyExists(&'static str),
    /// 409 for this reason.
    With(Conflict),
    /// A write no one expects to fail (an audit record, a fresh marker): the
    /// generic "changed concurrently, retry" every unexpected failure gets.
    Retry,
}

impl Fails {
    pub fn stale(why: impl Into<Cow<'static, str>>) -> Fails {
        Fails::Stale(why.into())
    }

    pub fn changed(why: impl Into<Cow<'static, str>>) -> Fails {
        Fails::Changed(why.into())
    }

    /// The problem this failure is, given whether the caller sent If-Match.
    pub fn into_error(self, if_match: bool) -> ApiError {
        match self {
            Fails::Stale(_) if if_match => ApiError::PreconditionFailed,
            Fails::Stale(why) | Fails::Changed(why) => ApiError::changed(why),
            Fails::AlreadyExists(kind) => Conflict::AlreadyExists(kind).into(),
            Fails::With(c) => c.into(),
            Fails::Retry => StoreError::Conflict.into(),
        }
    }
}

/// Why a transaction did not happen: one write's condition failed (with what
/// was pushed for it), or the store refused or failed.
#[derive(Debug, PartialEq)]
pub enum TxError<F> {
    Failed(F),
    Store(StoreError),
}

/// Writes of one tenant that happen all together or not at all, each with
/// what its failure means (`F`: [`Fails`] for requests; a consumer may use its
/// own type and [`Tx::run`]).
#[derive(Debug)]
pub struct Tx<F = Fails> {
    tenant: String,
    writes: Vec<Write>,
    fails: Vec<F>,
    /// What losing to another transaction on the same items means; without
    /// it, the store's error (a retryable conflict) comes back as it is.
    contended: Option<F>,
    if_match: bool,
}

impl<F> Tx<F> {
    pub fn new(tenant: &str) -> Tx<F> {
        Tx {
            tenant: tenant.to_owned(),
            writes: Vec::new(),
            fails: Vec::new(),
            contended: None,
            if_match: false,
        }
    }

    pub fn len(&self) -> usize {
        self.writes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// What it means when another transaction touching the same items wins
    /// (DynamoDB cancels this one): usually what a failed condition means.
    pub fn contended(mut self, fails: F) -> Self {
        self.contended = Some(fails);
        self
    }

    /// Adds `write`; `fails` is what a failure of its condition means.
    pub fn push(&mut self, write: Write, fails: F) -> &mut Self {
        self.writes.push(write);
        self.fails.push(fails);
        self
    }

    /// Creates the record; fails if its key is taken.
    pub fn create<R: Record>(&mut self, record: &R, fails: F) -> StoreResult<&mut Self> {
        let write = record::create(&self.tenant, record)?;
        Ok(self.push(write, fails))
    }

    /// Writes the record over the stored version `expected` (see [`record::replace`]).
    pub fn replace<R: Record>(
        &mut self,
        record: &R,
        expected: u64,
        fails: F,
    ) -> StoreResult<&mut Self> {
        let write = record::replace(&self.tenant, record, expected)?;
        Ok(self.push(write, fails))
    }

    /// Writes the record over `expected`, where 0 means never stored (see [`record::save`]).
    pub fn save<R: Record>(
        &mut self,
        record: &R,
        expected: u64,
        fails: F,
    ) -> StoreResult<&mut Self> {
        let write = record::save(&self.tenant, record, expected)?;
        Ok(self.push(write, fails))
    }

    /// Writes the record whatever is stored (for items derived from others, such as an index).
    pub fn put<R: Record>(&mut self, record: &R, fails: F) -> StoreResult<&mut Self> {
        let write = Write::put(record::to_item(&self.tenant, record)?);
        Ok(self.push(write, fails))
    }

    /// Deletes the record only if it is still at the version it has here.
    pub fn delete<R: Record>(&mut self, record: &R, fails: F) -> &mut Self {
        let write = record::delete(&self.tenant, record);
        self.push(write, fails)
    }

    /// Writes nothing at `key`, but the transaction fails unless `condition` holds.
    pub fn check(&mut self, key: Key, condition: Condition, fails: F) -> &mut Self {
        self.push(Write::Check { key, condition }, fails)
    }

    /// Runs the transaction once. A failed condition comes back as what was
    /// pushed with the failing write: the one place a write's position is read.
    /// More writes than DynamoDB takes in one transaction are refused before
    /// anything is sent.
    pub async fn run(self, table: &dyn Table) -> Result<(), TxError<F>> {
        if self.writes.len() > MAX_TRANSACT_ITEMS {
            return Err(TxError::Store(StoreError::TooManyWrites(self.writes.len())));
        }
        if self.writes.is_empty() {
            return Ok(());
        }
        match table.transact(self.writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index, key }) => {
                match self.fails.into_iter().nth(index) {
                    Some(f) => Err(TxError::Failed(f)),
                    None => Err(TxError::Store(StoreError::ConditionFailed { index, key })),
                }
            }
            Err(StoreError::Conflict) => match self.contended {
                Some(f) => Err(TxError::Failed(f)),
                None => Err(TxError::Store(StoreError::Conflict)),
            },
            Err(e) => Err(TxError::Store(e)),
        }
    }
}

impl Tx<Fails> {
    /// Whether the caller named the version they changed (If-Match): losing
    /// the race on a [`Fails::Stale`] write is then 412, not 409.
    pub fn if_match(mut self, named: bool) -> Self {
        self.if_match = named;
        self
    }

    /// Adds the audit record of a change by the caller (see [`resource::audit`]);
    /// its failure means nothing but a retry.
    pub fn audit<R: Record>(
        &mut self,
        services: &Services,
        caller: &Caller,
        action: AuditAction,
        before: Option<&R>,
        after: Option<&R>,
        id: &str,
    ) -> ApiResult<&mut Self> {
        let write = resource::audit(services, caller, action, before, after, id)?;
        Ok(self.push(write, Fails::Retry))
    }

    /// Adds writes no one expects to fail.
    pub fn extend(&mut self, writes: impl IntoIterator<Item = Write>) -> &mut Self {
        for w in writes {
            self.push(w, Fails::Retry);
        }
        self
    }

    /// Runs the transaction; a failed condition is the problem its write was pushed with.
    pub async fn commit(self, services: &Services) -> ApiResult<()> {
        let if_match = self.if_match;
        self.run(&*services.table).await.map_err(|e| match e {
            TxError::Failed(f) => f.into_error(if_match),
            TxError::Store(e) => e.into(),
        })
    }
}
