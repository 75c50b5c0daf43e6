//! A small agency, set up through the intake API as a real admin would, with
//! one person of every role, a client, and a time-and-materials project.

use serde_json::json;

use crate::{client_user, who, App, As};

pub struct Studio {
    pub tenant: String,
    pub admin: As,
    pub finance: As,
    /// A manager on the project's team: manages it.
    pub manager: As,
    /// A manager not on the team.
    pub other_manager: As,
    /// A member on the team.
    pub member: As,
    /// A member not on the team.
    pub outsider: As,
    /// A contractor on the team.
    pub contractor: As,
    /// A contractor not on the team.
    pub stray_contractor: As,
    pub client_user: As,
    pub client: String,
    /// Time and materials, EUR, default rate 100, budget 10 h / 1000 EUR,
    /// alerts at 80 and 100 %. Team: manager, member, contractor.
    pub project: String,
    pub task: String,
    /// A second project of the same client; only the member is on its team.
    pub side_project: String,
}

/// Sets up the studio in `tenant`. Needs the intake routes mounted.
pub async fn studio(app: &App, tenant: &str) -> Studio {
    let admin = who(tenant, "boss", "admin");
    let mut ids = Vec::new();
    for (name, role, cost) in [
        ("Fin", "finance", "40.00"),
        ("Mia", "manager", "50.00"),
        ("Olga", "manager", "50.00"),
        ("Rui", "member", "30.00"),
        ("Eva", "member", "30.00"),
        ("Carl", "contractor", "60.00"),
        ("Sam", "contractor", "60.00"),
    ] {
        let body = json!({
            "name": name,
            "email": format!("{}@{tenant}.io", name.to_lowercase()),
            "role": role,
            "time_zone": "Europe/Lisbon",
            "job_role": "designer",
            "cost_rate": {"amount": cost, "currency": "EUR"},
            "default_bill_rate": {"amount": "80.00", "currency": "EUR"},
            "weekly_capacity_hours": "40",
        });
        ids.push(app.create(&admin, "/v1/people", body).await);
    }
    let as_ = |i: usize, role: &str| who(tenant, &ids[i], role);
    let client = app
        .create(
            &admin,
            "/v1/clients",
            json!({"name": "Northwind", "currency": "EUR", "default_rate": "90.00"}),
        )
        .await;
    let project = app
        .create(
            &admin,
            "/v1/projects",
            json!({
                "client_id": client,
                "name": "Rebrand",
                "billing_model": "time_and_materials",
                "team": [ids[1], ids[3], ids[5]],
                "rate_card": {"default_rate": "100.00"},
                "budget": {"hours": "10", "fees": "1000.00", "alert_thresholds": [80, 100]},
            }),
        )
        .await;
    let task = app
        .create(
            &admin,
            &format!("/v1/projects/{project}/tasks"),
            json!({"name": "Design"}),
        )
        .await;
    let side_project = app
        .create(
            &admin,
            "/v1/projects",
            json!({"client_id": client, "name": "Website", "billing_model": "time_and_materials", "team": [ids[3]]}),
        )
        .await;
    Studio {
        tenant: tenant.into(),
        finance: as_(0, "finance"),
        manager: as_(1, "manager"),
        other_manager: as_(2, "manager"),
        member: as_(3, "member"),
        outsider: as_(4, "member"),
        contractor: as_(5, "contractor"),
        stray_contractor: as_(6, "contractor"),
        client_user: client_user(tenant, "cu", &client),
        admin,
        client,
        project,
        task,
        side_project,
    }
}
