//! The caller's person record, read together with the request's first read
//! rather than before it: one round trip fewer on every request.
//!
//! A request starts as the caller its token claims ([`Caller::resolve`]
//! leaves a [`Slot`] for their record). The first read of the store takes the
//! record along (a get becomes a batch get of both keys; a batch get gains
//! the key; a query runs beside a get of it), and before any write the record
//! is read on its own. So the record is in hand before anything is written
//! or answered, and it decides as it always did: a deactivated person is
//! refused, and a role or client other than the token's runs the request
//! again, from the start, as the record says. The first run is abandoned:
//! every later store call of it fails ([`StoreError::Abandoned`]) and its
//! response is dropped. A request that never read is checked when it ends.

use std::sync::{Arc, Mutex};

use agencyops_store::record::{from_item, is};
use agencyops_store::records::Person;
use agencyops_store::{Item, Key, Page, Query, StoreError, StoreResult, Table, Write};
use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::caller::Caller;
use crate::error::ApiError;
use crate::extract::{read_body, MAX_BODY};
use crate::services::Services;

tokio::task_local! {
    static SLOT: Arc<Slot>;
}

/// Where a request's caller waits for their record (empty until the request
/// asks who is calling).
#[derive(Default)]
pub struct Slot(Mutex<Option<Pending>>);

/// A claimed caller and what their record, once read, says.
struct Pending {
    claimed: Caller,
    key: Key,
    /// Whether a missing record refuses the caller (a gateway token naming no
    /// person of the agency, not a bootstrap admin).
    missing_refuses: bool,
    outcome: Option<Outcome>,
}

/// What the record says about the claimed caller.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// The token's role and client stand: the request's answer is its answer.
    Agrees,
    /// The record gives another role or client: the request runs again as this caller.
    Differs(Caller),
    /// A deactivated person.
    Deactivated,
    /// No person of the agency (in AWS, outside the bootstrap admins).
    Unknown,
}

impl Outcome {
    /// The one rule: what `record` says of `claimed`.
    fn of(claimed: &Caller, missing_refuses: bool, record: Option<Person>) -> Outcome {
        match record {
            None if missing_refuses => Outcome::Unknown,
            None => Outcome::Agrees,
            Some(r) if !r.active => Outcome::Deactivated,
            Some(r) if r.role == claimed.role && r.client_id == claimed.client => Outcome::Agrees,
            Some(r) => Outcome::Differs(Caller {
                role: r.role,
                client: r.client_id,
                ..claimed.clone()
            }),
        }
    }

    /// The caller the request runs as, or its refusal.
    fn caller(self, claimed: Caller) -> Result<Caller, ApiError> {
        match self {
            Outcome::Agrees => Ok(claimed),
            Outcome::Differs(caller) => Ok(caller),
            Outcome::Deactivated => Err(ApiError::forbidden("this account has been deactivated")),
            Outcome::Unknown => {
                tracing::warn!(
                    tenant = %claimed.tenant,
                    person = %claimed.person,
                    "refused a token that names no person of the agency"
                );
                Err(ApiError::Unauthenticated)
            }
        }
    }
}

/// The caller `record` makes of `claimed`, checked at once (outside the
/// HTTP layers, where nothing defers it).
pub(crate) fn decide(
    claimed: Caller,
    missing_refuses: bool,
    record: Option<Person>,
) -> Result<Caller, ApiError> {
    Outcome::of(&claimed, missing_refuses, record).caller(claimed)
}

/// Leaves `claimed` waiting for their record, if the request runs under
/// [`middleware`]; false otherwise (the caller is then checked at once).
pub(crate) fn defer(claimed: &Caller, missing_refuses: bool) -> bool {
    SLOT.try_with(|slot| {
        if let Ok(mut pending) = slot.0.lock() {
            if pending.is_none() {
                *pending = Some(Pending {
                    claimed: claimed.clone(),
                    key: agencyops_store::keys::person(&claimed.tenant, &claimed.person),
                    missing_refuses,
                    outcome: None,
                });
            }
        }
    })
    .is_ok()
}

/// What a store call of this request must do about the caller's record.
enum Gate {
    /// Nothing: no caller waits, or their record agreed.
    Open,
    /// Read the record (at this key) with the call.
    Read(Key),
}

fn gate() -> StoreResult<Gate> {
    let Ok(slot) = SLOT.try_with(Arc::clone) else {
        return Ok(Gate::Open);
    };
    let pending = slot
        .0
        .lock()
        .map_err(|_| StoreError::Backend("caller slot poisoned".into()))?;
    match pending.as_ref() {
        None => Ok(Gate::Open),
        Some(p) => match &p.outcome {
            None => Ok(Gate::Read(p.key.clone())),
            Some(Outcome::Agrees) => Ok(Gate::Open),
            Some(_) => Err(StoreError::Abandoned),
        },
    }
}

/// Settles the waiting caller with their record as read; an outcome other
/// than agreement abandons the call that read it.
fn settle(record: Option<Item>) -> StoreResult<()> {
    let person = match record {
        Some(item) if is::<Person>(&item) => Some(from_item::<Person>(item)?),
        _ => None,
    };
    let Ok(slot) = SLOT.try_with(Arc::clone) else {
        return Ok(());
    };
    let mut pending = slot
        .0
        .lock()
        .map_err(|_| StoreError::Backend("caller slot poisoned".into()))?;
    let Some(p) = pending.as_mut() else {
        return Ok(());
    };
    let outcome = match &p.outcome {
        Some(o) => o.clone(),
        None => {
            let o = Outcome::of(&p.claimed, p.missing_refuses, person);
            p.outcome = Some(o.clone());
            o
        }
    };
    match outcome {
        Outcome::Agrees => Ok(()),
        _ => Err(StoreError::Abandoned),
    }
}

/// The table every HTTP request uses: reads the waiting caller's record with
/// the first read, and before any write.
pub struct CallerCheckedTable {
    inner: Arc<dyn Table>,
}

impl CallerCheckedTable {
    pub fn new(inner: Arc<dyn Table>) -> CallerCheckedTable {
        CallerCheckedTable { inner }
    }

    async fn settle_alone(&self, person: Key) -> StoreResult<()> {
        settle(self.inner.get(&person).await?)
    }
}

#[async_trait]
impl Table for CallerCheckedTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let person = match gate()? {
            Gate::Open => return self.inner.get(key).await,
            Gate::Read(person) => person,
        };
        if &person == key {
            let item = self.inner.get(key).await?;
            settle(item.clone())?;
            return Ok(item);
        }
        let mut record = None;
        let mut found = None;
        for item in self.inner.batch_get(&[person.clone(), key.clone()]).await? {
            match Key::of(&item) {
                Some(k) if k == person => record = Some(item),
                Some(k) if &k == key => found = Some(item),
                _ => {}
            }
        }
        settle(record)?;
        Ok(found)
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        let person = match gate()? {
            Gate::Open => return self.inner.batch_get(keys).await,
            Gate::Read(person) => person,
        };
        let asked = keys.contains(&person);
        let mut with = keys.to_vec();
        if !asked {
            with.push(person.clone());
        }
        let mut record = None;
        let mut out = Vec::with_capacity(keys.len());
        for item in self.inner.batch_get(&with).await? {
            if Key::of(&item).as_ref() == Some(&person) {
                record = Some(item.clone());
                if !asked {
                    continue;
                }
            }
            out.push(item);
        }
        settle(record)?;
        Ok(out)
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        match gate()? {
            Gate::Open => self.inner.query(query).await,
            Gate::Read(person) => {
                let (record, page) = tokio::join!(self.inner.get(&person), self.inner.query(query));
                settle(record?)?;
                page
            }
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        if let Gate::Read(person) = gate()? {
            self.settle_alone(person).await?;
        }
        self.inner.transact(writes).await
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        if let Gate::Read(person) = gate()? {
            self.settle_alone(person).await?;
        }
        self.inner.increment(key, attr, by).await
    }
}

/// Runs each request with a slot for its caller's record, and answers only
/// once the record has spoken: the response as is, a refusal, or the
/// request run again as the caller the record describes.
pub async fn middleware(State(s): State<Services>, req: Request, next: Next) -> Response {
    if req.extensions().get::<Caller>().is_some() {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    if Caller::claimed(&parts).is_err() {
        // No one claims to call: the routes refuse or serve as they would.
        return next.run(Request::from_parts(parts, body)).await;
    }
    let bytes = match read_body(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let slot = Arc::new(Slot::default());
    let first = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
    let response = SLOT.scope(slot.clone(), next.clone().run(first)).await;
    let checked = SLOT
        .scope(slot.clone(), async {
            match gate() {
                // The request never read the store: its record is read now
                // (through the checked table, which settles it).
                Ok(Gate::Read(person)) => s.table.get(&person).await.map(|_| ()),
                Ok(Gate::Open) => Ok(()),
                Err(e) => Err(e),
            }
        })
        .await;
    let (claimed, outcome) = match checked {
        Ok(()) | Err(StoreError::Abandoned) => match slot
            .0
            .lock()
            .ok()
            .and_then(|p| p.as_ref().map(|p| (p.claimed.clone(), p.outcome.clone())))
        {
            Some((claimed, outcome)) => (claimed, outcome),
            // Nobody asked who is calling.
            None => return response,
        },
        Err(e) => return ApiError::from(e).into_response(),
    };
    match outcome {
        None | Some(Outcome::Agrees) => response,
        Some(other) => match other.caller(claimed) {
            // The record's caller: the request runs again as them.
            Ok(caller) => {
                parts.extensions.insert(caller);
                next.run(Request::from_parts(parts, Body::from(bytes)))
                    .await
            }
            Err(refused) => refused.into_response(),
        },
    }
}
