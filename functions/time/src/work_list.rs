//! What the lists of a person's dated work (time entries, expenses) share:
//! the filter a caller passes, whose work it names and how it narrows a page.
//! One place, so both lists refuse and page the same way.

use agencyops_domain::timesheet::WorkStatus;
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::record::Record;
use agencyops_store::records::{Expense, TimeEntry};
use agencyops_store::{keys, Index, Query as StoreQuery, SkCondition};
use jiff::civil::{date, Date};
use serde::Deserialize;

use crate::policy;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WorkFilter {
    /// Whose work (`me` or an id); defaults to the caller.
    pub person_id: Option<String>,
    pub project_id: Option<String>,
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
    pub status: Option<WorkStatus>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A piece of a person's work that a list narrows by project and status.
pub trait ListedWork: Record {
    fn project(&self) -> &str;
    fn work_status(&self) -> WorkStatus;
}

impl ListedWork for TimeEntry {
    fn project(&self) -> &str {
        &self.project_id
    }
    fn work_status(&self) -> WorkStatus {
        self.status
    }
}

impl ListedWork for Expense {
    fn project(&self) -> &str {
        &self.project_id
    }
    fn work_status(&self) -> WorkStatus {
        self.status
    }
}

impl WorkFilter {
    /// Whether the filter keeps this piece of work.
    pub fn keeps<R: ListedWork>(&self, work: &R) -> bool {
        self.project_id
            .as_deref()
            .is_none_or(|p| work.project() == p)
            && self.status.is_none_or(|st| work.work_status() == st)
    }

    /// One page of the named person's work that the filter keeps. `query`
    /// reads that person's work dated `from` to `to` (unbounded when not
    /// given); a person out of sight is 404, `from` after `to` a 400.
    pub async fn page<R: ListedWork>(
        &self,
        s: &Services,
        caller: &Caller,
        query: impl FnOnce(&str, Date, Date) -> StoreQuery,
    ) -> ApiResult<ListPage<R>> {
        let person =
            policy::visible_work_owner(s, caller, self.person_id.as_deref().unwrap_or("me"))
                .await?;
        let (from, to) = self.range()?;
        let q = query(&person, from, to);
        let keep = |w: &R| self.keeps(w);
        resource::list(
            s,
            caller,
            q,
            self.limit,
            self.cursor.as_deref(),
            &self.keeps_by(),
            keep,
        )
        .await
    }

    /// One page of a project's time across everyone who recorded it (GSI1,
    /// newest first), for staff who see everything. An unknown project is 404.
    pub async fn project_page(
        &self,
        s: &Services,
        caller: &Caller,
        project: &str,
    ) -> ApiResult<ListPage<TimeEntry>> {
        agencyops_platform::access::visible_project(s, caller, project).await?;
        let (from, to) = self.range()?;
        let (lo, hi) = keys::entry_range(&from.to_string(), &to.to_string());
        let q = StoreQuery::new(Index::Gsi1, keys::project_time(&caller.tenant, project))
            .sk(SkCondition::Between(lo, hi))
            .backward();
        let keep = |w: &TimeEntry| self.keeps(w);
        resource::list(
            s,
            caller,
            q,
            self.limit,
            self.cursor.as_deref(),
            &self.keeps_by(),
            keep,
        )
        .await
    }

    /// What `keeps` reads, which a cursor is bound to (the person and dates are in the query).
    fn keeps_by(&self) -> (&Option<String>, Option<WorkStatus>) {
        (&self.project_id, self.status)
    }

    fn range(&self) -> ApiResult<(Date, Date)> {
        let from = self.from.unwrap_or(date(1900, 1, 1));
        let to = self.to.unwrap_or(date(2999, 12, 31));
        if from > to {
            return Err(ApiError::field("query.from", "must not be after `to`"));
        }
        Ok((from, to))
    }
}
