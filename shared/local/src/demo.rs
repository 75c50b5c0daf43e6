//! A realistic demo agency, loaded through the public API so every rule applies.
//! Loading twice changes nothing: an agency that already has clients is left alone.

use agencyops_domain::Role;
use anyhow::{anyhow, bail, Context};
use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::host::Host;

pub const TENANT: &str = "demo";

pub(crate) struct Api {
    pub(crate) app: axum::Router,
    pub(crate) token: String,
}

impl Api {
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("authorization", format!("Bearer {}", self.token));
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&b)?)
            }
            None => Body::empty(),
        };
        let res = self.app.clone().oneshot(req.body(body)?).await?;
        let status = res.status();
        let bytes = res.into_body().collect().await?.to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{method} {path} failed with {status}: {value}");
        }
        Ok(value)
    }
    pub(crate) async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::POST, path, Some(body)).await
    }
    pub(crate) async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, None).await
    }
}

pub(crate) fn id(v: &Value) -> anyhow::Result<String> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("response without id: {v}"))
}

/// Loads the demo agency and returns a report with a token per demo person.
pub async fn load(host: &Host) -> anyhow::Result<String> {
    let bootstrap = host
        .tokens
        .issue(
            &agencyops_platform::Caller {
                tenant: TENANT.into(),
                person: "bootstrap".into(),
                role: Role::Admin,
                client: None,
            },
            jiff::Timestamp::now().as_second(),
            600,
        )
        .map_err(|e| anyhow!("{e}"))?;
    let api = Api {
        app: host.app(),
        token: bootstrap,
    };
    let existing = api.get("/v1/clients?limit=1").await?;
    let already = existing["items"].as_array().is_some_and(|a| !a.is_empty());
    if !already {
        let team = seed(&api).await.context("loading the demo agency")?;
        crate::demo_time::seed(host, &api, &team)
            .await
            .context("recording the demo agency's time")?;
        crate::demo_invoices::seed(&api, &team)
            .await
            .context("invoicing the demo agency's work")?;
        crate::demo_followups::seed(host, &api)
            .await
            .context("following up the demo agency's invoices")?;
    }
    report(host, &api, already).await
}

/// Who works on the rebrand, for the time the demo records.
pub(crate) struct Team {
    pub mara: String,
    pub rui: String,
    pub ines: String,
    pub tom: String,
    pub rebrand: String,
}

async fn seed(api: &Api) -> anyhow::Result<Team> {
    let person = |name: &str, email: &str, role: &str, job: &str, cost: &str, bill: &str| {
        json!({"name": name, "email": email, "role": role, "job_role": job,
               "cost_rate": {"amount": cost, "currency": "EUR"},
               "default_bill_rate": {"amount": bill, "currency": "EUR"},
               "weekly_capacity_hours": "40", "time_zone": "Europe/Lisbon"})
    };
    api.post(
        "/v1/people",
        person(
            "Ana Ferreira",
            "ana@demo.agency",
            "admin",
            "director",
            "70.00",
            "150.00",
        ),
    )
    .await?;
    api.post(
        "/v1/people",
        person(
            "Bruno Costa",
            "bruno@demo.agency",
            "finance",
            "finance",
            "45.00",
            "0.00",
        ),
    )
    .await?;
    let mara = id(&api
        .post(
            "/v1/people",
            person(
                "Mara Lopes",
                "mara@demo.agency",
                "manager",
                "producer",
                "55.00",
                "120.00",
            ),
        )
        .await?)?;
    let rui = id(&api
        .post(
            "/v1/people",
            person(
                "Rui Santos",
                "rui@demo.agency",
                "member",
                "designer",
                "40.00",
                "95.00",
            ),
        )
        .await?)?;
    let ines = id(&api
        .post(
            "/v1/people",
            person(
                "Inês Rocha",
                "ines@demo.agency",
                "member",
                "developer",
                "45.00",
                "110.00",
            ),
        )
        .await?)?;
    let tom = id(&api.post("/v1/people", json!({"name": "Tom Becker", "email": "tom@freelance.example", "role": "contractor",
        "job_role": "copywriter", "cost_rate": {"amount": "50.00", "currency": "EUR"}, "time_zone": "Europe/Berlin",
        "weekly_capacity_hours": "20"})).await?)?;

    let northwind = id(&api.post("/v1/clients", json!({"name": "Northwind Coffee", "currency": "EUR", "payment_terms_days": 30,
        "tax_rates": [{"name": "IVA", "percent": "23"}], "billing_email": "ap@northwind.example", "default_rate": "100.00",
        "rounding": {"increment_minutes": 15, "mode": "up", "scope": "per_entry"},
        "invoice_preferences": {"detail": "detailed", "group_time_by": "task", "po_number": "NW-PO-2207"}})).await?)?;
    let globex = id(&api
        .post(
            "/v1/clients",
            json!({"name": "Globex Retail UK", "currency": "GBP", "payment_terms_days": 45,
        "tax_rates": [{"name": "VAT", "percent": "20"}], "billing_email": "invoices@globex.example",
        "invoice_preferences": {"detail": "summary", "group_time_by": "project"}}),
        )
        .await?)?;
    let hooli = id(&api
        .post(
            "/v1/clients",
            json!({"name": "Hooli Labs", "currency": "USD", "payment_terms_days": 15,
        "billing_email": "finance@hooli.example"}),
        )
        .await?)?;
    for (client, name, email, title, billing) in [
        (
            &northwind,
            "Joana Pires",
            "joana@northwind.example",
            "Marketing Director",
            false,
        ),
        (
            &northwind,
            "Accounts Payable",
            "ap@northwind.example",
            "Finance",
            true,
        ),
        (
            &globex,
            "Oliver Hart",
            "oliver@globex.example",
            "Head of Digital",
            true,
        ),
        (
            &hooli,
            "Priya Nair",
            "priya@hooli.example",
            "Product Lead",
            true,
        ),
    ] {
        api.post(
            &format!("/v1/clients/{client}/contacts"),
            json!({"name": name, "email": email, "title": title, "billing": billing}),
        )
        .await?;
    }
    api.post(
        "/v1/people",
        json!({"name": "Joana Pires", "email": "joana@northwind.example", "role": "client",
        "client_id": northwind, "time_zone": "Europe/Lisbon"}),
    )
    .await?;

    let rebrand = id(&api.post("/v1/projects", json!({"client_id": northwind, "name": "Northwind rebrand",
        "billing_model": "time_and_materials", "team": [mara, rui, ines, tom],
        "budget": {"hours": "320", "fees": "32000.00", "alert_thresholds": [80, 100]},
        "rate_card": {"default_rate": "100.00", "by_role": [{"job_role": "designer", "rate": "105.00"}],
                      "by_person": [{"person_id": tom, "rate": "90.00"}]},
        "starts_on": "2026-10-01", "ends_on": "2027-01-31"})).await?)?;
    for (name, est) in [
        ("Discovery", "24"),
        ("Identity design", "120"),
        ("Packaging", "80"),
        ("Brand guidelines", "40"),
    ] {
        api.post(
            &format!("/v1/projects/{rebrand}/tasks"),
            json!({"name": name, "estimate_hours": est}),
        )
        .await?;
    }
    let site = id(&api
        .post(
            "/v1/projects",
            json!({"client_id": globex, "name": "Globex storefront",
        "billing_model": "fixed_fee", "fixed_fee": "48000.00", "team": [mara, ines],
        "budget": {"fees": "48000.00", "alert_thresholds": [75, 90, 100]}, "stage": "active"}),
        )
        .await?)?;
    for (name, due, amount) in [
        ("Design sign-off", "2026-12-05", "14400.00"),
        ("Beta launch", "2027-01-20", "19200.00"),
        ("Go-live", "2027-02-28", "14400.00"),
    ] {
        api.post(
            &format!("/v1/projects/{site}/milestones"),
            json!({"name": name, "due_on": due, "amount": amount}),
        )
        .await?;
    }
    api.post("/v1/projects", json!({"client_id": hooli, "name": "Hooli retainer", "billing_model": "retainer",
        "team": [rui, ines], "rate_card": {"default_rate": "115.00"}, "budget": {"hours": "40", "alert_thresholds": [100]}})).await?;
    api.post("/v1/projects", json!({"client_id": northwind, "name": "Internal: pitch prep", "billing_model": "non_billable",
        "team": [mara, rui]})).await?;

    let accepted = id(&api.post("/v1/intake-requests", json!({"client_id": northwind, "title": "Seasonal campaign",
        "brief": "Spring campaign across social and in-store.", "desired_start": "2027-02-01", "budget": "18000"})).await?)?;
    api.post(&format!("/v1/intake-requests/{accepted}/accept"), json!({
        "project": {"billing_model": "time_and_materials", "team": [mara, rui], "rate_card": {"default_rate": "100.00"},
                    "budget": {"fees": "18000.00", "alert_thresholds": [80, 100]}},
        "handoff": {"scope_summary": "Concept, key visuals and 12 social assets.",
                    "assumptions": ["Two rounds of revisions", "Client supplies photography"],
                    "roles": [{"job_role": "designer", "person_id": rui, "hours": "90"}, {"job_role": "producer", "person_id": mara, "hours": "20"}]},
        "milestones": [{"name": "Concepts approved", "due_on": "2027-02-20", "amount": "6000.00"}]})).await?;
    let declined = id(&api
        .post(
            "/v1/intake-requests",
            json!({"client_id": hooli, "title": "Conference booth",
        "brief": "Booth design for a trade show in three weeks."}),
        )
        .await?)?;
    api.post(
        &format!("/v1/intake-requests/{declined}/decline"),
        json!({"reason": "Timeline too short for fabrication."}),
    )
    .await?;
    api.post(
        "/v1/intake-requests",
        json!({"client_id": globex, "title": "Loyalty app discovery",
        "brief": "Two-week discovery for a loyalty app.", "budget": "12000"}),
    )
    .await?;
    Ok(Team {
        mara,
        rui,
        ines,
        tom,
        rebrand,
    })
}

async fn report(host: &Host, api: &Api, already: bool) -> anyhow::Result<String> {
    let people = api.get("/v1/people?limit=200").await?;
    let mut out = String::new();
    out.push_str(if already {
        "Demo agency already loaded (tenant \"demo\").\n"
    } else {
        "Loaded the demo agency (tenant \"demo\").\n"
    });
    out.push_str("Tokens (valid 12 h):\n");
    for p in people["items"].as_array().into_iter().flatten() {
        let (Some(pid), Some(role), Some(name)) = (
            p["id"].as_str(),
            p["role"].as_str().and_then(Role::parse),
            p["name"].as_str(),
        ) else {
            continue;
        };
        let caller = agencyops_platform::Caller {
            tenant: TENANT.into(),
            person: pid.into(),
            role,
            client: p["client_id"].as_str().map(str::to_owned),
        };
        let token = host
            .tokens
            .issue(&caller, jiff::Timestamp::now().as_second(), 12 * 3600)
            .map_err(|e| anyhow!("{e}"))?;
        out.push_str(&format!("  {:<10} {:<14} {}\n", role.as_str(), name, token));
    }
    Ok(out)
}
