//! What a week job reads: the person's entries of the week, and the projects,
//! clients and person whose terms price an approval.

use std::collections::{BTreeSet, HashMap};

use agencyops_domain::timesheet::IsoWeek;
use agencyops_platform::loaders::projects_with_clients;
use agencyops_platform::{ApiError, ApiResult, Services};
use agencyops_store::record;
use agencyops_store::records::{Approval, Client, Person, Project, TimeEntry, WeekJob};

use crate::snapshot::{approval_for, Approver, Terms};

/// A person's entries in a week: one strongly consistent query (paged).
pub async fn read_entries(
    s: &Services,
    tenant: &str,
    person: &str,
    week: IsoWeek,
) -> ApiResult<Vec<TimeEntry>> {
    Ok(record::all(&*s.table, &TimeEntry::week_query(tenant, person, week)).await?)
}

/// Projects, clients and the person that price an approval, loaded once per job run.
#[derive(Default)]
pub struct RateBook {
    pub projects: HashMap<String, Project>,
    pub clients: HashMap<String, Client>,
    pub person: Option<Person>,
}

impl RateBook {
    pub async fn load<'a>(
        &mut self,
        s: &Services,
        tenant: &str,
        projects: impl Iterator<Item = &'a str>,
    ) -> ApiResult<()> {
        let wanted: BTreeSet<&str> = projects
            .filter(|p| !self.projects.contains_key(*p))
            .collect();
        for (p, client) in projects_with_clients(s, tenant, wanted).await? {
            if let Some(c) = client {
                self.clients.insert(c.id.clone(), c);
            }
            self.projects.insert(p.id.clone(), p);
        }
        Ok(())
    }

    pub fn approval(
        &self,
        entry: &TimeEntry,
        job: &WeekJob,
        now: jiff::Timestamp,
    ) -> ApiResult<Approval> {
        let project = self.projects.get(&entry.project_id).ok_or_else(|| {
            ApiError::Internal(format!(
                "project {} of time entry {} is missing",
                entry.project_id, entry.id
            ))
        })?;
        let terms = Terms {
            project,
            client: self.clients.get(&project.client_id),
            person: self.person.as_ref(),
        };
        let by = Approver {
            person: &job.actor,
            at: now,
            job_id: &job.id,
        };
        approval_for(entry, &terms, &by)
            .ok_or_else(|| ApiError::Internal(format!("the value of entry {} overflows", entry.id)))
    }
}
