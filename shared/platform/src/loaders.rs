//! Reads several operations share, so each is written (and bounded) once.

use std::collections::{BTreeSet, HashMap};

use agencyops_store::keys;
use agencyops_store::record::load_many;
use agencyops_store::records::{Client, Project};

use crate::{ApiResult, Services};

/// The projects named by `ids` that exist, each with its client (`None` if the
/// client is gone): two batch reads however many entries name them, each
/// project and client read once.
pub async fn projects_with_clients<'a>(
    services: &Services,
    tenant: &str,
    ids: impl IntoIterator<Item = &'a str>,
) -> ApiResult<Vec<(Project, Option<Client>)>> {
    let ids: BTreeSet<&str> = ids.into_iter().collect();
    let keys: Vec<_> = ids.iter().map(|id| keys::project(tenant, id)).collect();
    let projects = load_many::<Project>(&*services.table, &keys).await?;
    let client_ids: BTreeSet<&str> = projects.iter().map(|p| p.client_id.as_str()).collect();
    let keys: Vec<_> = client_ids
        .iter()
        .map(|id| keys::client(tenant, id))
        .collect();
    let clients: HashMap<String, Client> = load_many::<Client>(&*services.table, &keys)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    Ok(projects
        .into_iter()
        .map(|p| {
            let client = clients.get(&p.client_id).cloned();
            (p, client)
        })
        .collect())
}
