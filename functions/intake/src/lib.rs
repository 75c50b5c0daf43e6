//! The intake function: people, clients and contacts, projects with tasks and
//! milestones, and intake requests that become projects. The same router runs
//! in Lambda (`main.rs`) and inside the local host.

/// Who sees what lives in the platform: every function answers it the same way.
pub use agencyops_platform::access;
pub mod clients;
pub mod intake_requests;
pub mod people;
pub mod projects;
pub mod views;
pub mod work_items;

use agencyops_platform::Services;
use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

pub const FUNCTION: &str = "intake";

/// The function's routes, state and cross-cutting layers.
pub fn router(services: Services) -> Router {
    agencyops_platform::http::finish(routes(), services, FUNCTION)
}

/// The bare routes, for hosts that add their own layers.
pub fn routes() -> Router<Services> {
    Router::new()
        .route("/v1/people", post(people::create).get(people::list))
        .route("/v1/people/{id}", get(people::get).patch(people::patch))
        .route("/v1/clients", post(clients::create).get(clients::list))
        .route("/v1/clients/{id}", get(clients::get).patch(clients::patch))
        .route(
            "/v1/clients/{id}/contacts",
            post(clients::create_contact).get(clients::list_contacts),
        )
        .route(
            "/v1/clients/{id}/contacts/{contact_id}",
            get(clients::get_contact).patch(clients::patch_contact),
        )
        .route("/v1/projects", post(projects::create).get(projects::list))
        .route(
            "/v1/projects/{id}",
            get(projects::get).patch(projects::patch),
        )
        .route(
            "/v1/projects/{id}/tasks",
            post(work_items::create_task).get(work_items::list_tasks),
        )
        .route(
            "/v1/projects/{id}/tasks/{task_id}",
            get(work_items::get_task).patch(work_items::patch_task),
        )
        .route(
            "/v1/projects/{id}/milestones",
            post(work_items::create_milestone).get(work_items::list_milestones),
        )
        .route(
            "/v1/projects/{id}/milestones/{milestone_id}",
            get(work_items::get_milestone).patch(work_items::patch_milestone),
        )
        .route(
            "/v1/projects/{id}/milestones/{milestone_id}/reach",
            post(work_items::reach_milestone),
        )
        .route(
            "/v1/intake-requests",
            post(intake_requests::create).get(intake_requests::list),
        )
        .route(
            "/v1/intake-requests/{id}",
            get(intake_requests::get).patch(intake_requests::patch),
        )
        .route(
            "/v1/intake-requests/{id}/accept",
            post(intake_requests::accept),
        )
        .route(
            "/v1/intake-requests/{id}/decline",
            post(intake_requests::decline),
        )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AgencyOps intake", description = "People, clients, projects and intake requests."),
    paths(
        people::create, people::list, people::get, people::patch,
        clients::create, clients::list, clients::get, clients::patch,
        clients::create_contact, clients::list_contacts, clients::get_contact, clients::patch_contact,
        projects::create, projects::list, projects::get, projects::patch,
        work_items::create_task, work_items::list_tasks, work_items::get_task, work_items::patch_task,
        work_items::create_milestone, work_items::list_milestones, work_items::get_milestone, work_items::patch_milestone, work_items::reach_milestone,
        intake_requests::create, intake_requests::list, intake_requests::get, intake_requests::patch,
        intake_requests::accept, intake_requests::decline,
    ),
    tags(
        (name = "people", description = "Staff, contractors and client users"),
        (name = "clients", description = "Clients and their contacts"),
        (name = "projects", description = "Projects, tasks and milestones"),
        (name = "intake", description = "Requests for work and their handoff into projects"),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    /// Responses are views, and every schema the document refers to is in it
    /// (a generated client fails on a dangling `$ref`).
    #[test]
    fn the_document_describes_views_and_every_ref_resolves() {
        let doc = ApiDoc::openapi();
        let mut ids = agencyops_apitest::operation_ids(&doc);
        assert_eq!(ids.len(), 31);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 31, "operation ids are unique");
        let json = serde_json::to_value(&doc).expect("the document is JSON");
        let schemas = json["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for view in ["ClientView", "ProjectView", "PersonView", "MilestoneView"] {
            assert!(schemas.contains_key(view), "{view} missing");
        }
        for record in ["Client", "Project", "Person", "Milestone", "IntakeRequest"] {
            assert!(!schemas.contains_key(record), "{record} is a stored record");
        }
        let text = json.to_string();
        let prefix = "\"#/components/schemas/";
        let dangling: Vec<&str> = text
            .match_indices(prefix)
            .filter_map(|(i, _)| text[i + prefix.len()..].split('"').next())
            .filter(|name| !schemas.contains_key(*name))
            .collect();
        assert!(dangling.is_empty(), "unresolved schemas: {dangling:?}");
    }
}
