//! Who may submit and who may decide. The same rules hold for timesheets and
//! expenses: people submit their own work (admins and managers may do it for
//! them); admins decide on anything, their own time included; finance decides
//! on anyone's work but their own; a manager decides only on the projects they
//! are on, and never on their own work. Everyone else may not decide at all.

use std::collections::BTreeSet;

use agencyops_platform::access;
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::keys;
use agencyops_store::record::load_many;
use agencyops_store::records::ProjectMember;

pub use agencyops_platform::access::{require_may_decide, require_may_submit};

/// A manager must be on every project they decide on; other approvers may
/// decide on any. `projects` are the projects the decision touches; their
/// memberships are read in one batch.
pub async fn require_manages<'a>(
    s: &Services,
    caller: &Caller,
    projects: impl IntoIterator<Item = &'a str>,
    hint: &str,
) -> ApiResult<()> {
    if !access::decides_only_on_own_projects(caller) {
        return Ok(());
    }
    let projects: Vec<&str> = projects.into_iter().collect();
    if projects.is_empty() {
        return Ok(());
    }
    let keys: Vec<_> = projects
        .iter()
        .map(|p| keys::member(&caller.tenant, p, &caller.person))
        .collect();
    let on: BTreeSet<String> = load_many::<ProjectMember>(&*s.table, &keys)
        .await?
        .into_iter()
        .map(|m| m.project_id)
        .collect();
    match projects.into_iter().find(|p| !on.contains(*p)) {
        Some(project) => Err(ApiError::forbidden(format!(
            "you do not manage project {project}; {hint}"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_domain::Role;

    fn caller(person: &str, role: Role) -> Caller {
        Caller {
            tenant: "acme".into(),
            person: person.into(),
            role,
            client: None,
        }
    }

    #[test]
    fn people_submit_their_own_work_and_staff_may_do_it_for_them() {
        assert!(require_may_submit(&caller("ana", Role::Member), "ana").is_ok());
        assert!(require_may_submit(&caller("ana", Role::Contractor), "ana").is_ok());
        assert!(require_may_submit(&caller("mia", Role::Manager), "ana").is_ok());
        assert!(require_may_submit(&caller("boss", Role::Admin), "ana").is_ok());
        assert!(require_may_submit(&caller("bo", Role::Member), "ana").is_err());
        assert!(require_may_submit(&caller("fin", Role::Finance), "ana").is_err());
        assert!(require_may_submit(&caller("ana", Role::Client), "ana").is_err());
    }

    #[test]
    fn only_admins_decide_on_their_own_work() {
        assert!(require_may_decide(&caller("boss", Role::Admin), "boss").is_ok());
        assert!(require_may_decide(&caller("fin", Role::Finance), "fin").is_err());
        assert!(require_may_decide(&caller("mia", Role::Manager), "mia").is_err());
        assert!(require_may_decide(&caller("fin", Role::Finance), "ana").is_ok());
        assert!(require_may_decide(&caller("mia", Role::Manager), "ana").is_ok());
        for role in [Role::Member, Role::Contractor, Role::Client] {
            assert!(require_may_decide(&caller("bo", role), "ana").is_err());
        }
    }
}
