//! The audit trail as an admin reads it, and who may read each of the
//! read-only views (budget, audit, utilization, work in progress).

mod insights_support;

use agencyops_apitest::{studio, who, App, Studio};
use insights_support::*;
use serde_json::{json, Value};

/// Renames the project twice, a minute apart, as an admin.
async fn rename_twice(app: &App, a: &Studio) {
    for name in ["Rebrand v2", "Rebrand v3"] {
        app.clock.advance(jiff::SignedDuration::from_secs(60));
        app.patch(
            &a.admin,
            &format!("/v1/projects/{}", a.project),
            json!({"name": name}),
        )
        .await
        .expect(200);
    }
}

async fn all_pages(app: &App, who: &agencyops_apitest::As, first: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = first.to_owned();
    loop {
        let page = app.get(who, &path).await.expect(200).body;
        let items = page["items"].as_array().unwrap();
        assert!(!items.is_empty(), "no empty pages");
        out.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("{first}&cursor={c}"),
            None => return out,
        }
    }
}

#[tokio::test]
async fn the_audit_trail_lists_changes_newest_first() {
    let app = app();
    let a = studio(&app, "acme").await;
    rename_twice(&app, &a).await;

    // One record's history.
    let entity = format!("/v1/audit?entity_kind=project&entity_id={}", a.project);
    let h = app.get(&a.admin, &entity).await.expect(200).body;
    let actions: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["update", "update", "create"]);
    assert_eq!(h["items"][0]["after"]["name"], "Rebrand v3");
    assert_eq!(h["items"][0]["before"]["name"], "Rebrand v2");
    assert_eq!(h["items"][0]["actor"], "boss");
    assert_eq!(h["items"][0]["entity_id"], a.project.as_str());
    assert!(h["items"][0].get("pk").is_none() && h["items"][0].get("gsi1pk").is_none());
    assert_eq!(h["next_cursor"], Value::Null);

    // The whole tenant, newest first, and the same when read page by page.
    let all = app
        .get(&a.admin, "/v1/audit?limit=200")
        .await
        .expect(200)
        .body;
    let items = all["items"].as_array().unwrap();
    let ats: Vec<&str> = items.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(
        ats.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {ats:?}"
    );
    assert_eq!(items[0]["entity_id"], a.project.as_str());
    assert_eq!(items[0]["after"]["name"], "Rebrand v3");
    let kinds: Vec<&str> = items
        .iter()
        .map(|e| e["entity_kind"].as_str().unwrap())
        .collect();
    for kind in ["person", "client", "project", "task"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let paged = all_pages(&app, &a.admin, "/v1/audit?limit=4").await;
    assert!(items.len() > 8, "several pages");
    assert_eq!(ids(&Value::Array(paged), "id"), ids(&all["items"], "id"));

    let first = app
        .get(&a.admin, &format!("{entity}&limit=2"))
        .await
        .expect(200)
        .body;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(&a.admin, &format!("{entity}&limit=2&cursor={cursor}"))
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&second["items"], "action"), vec!["create"]);
    assert_eq!(second["next_cursor"], Value::Null);

    // A cursor resumes only its own tenant and list.
    let g = studio(&app, "globex").await;
    let stolen = app
        .get(&g.admin, &format!("{entity}&limit=2&cursor={cursor}"))
        .await
        .expect(400);
    assert_eq!(stolen.fields(), vec!["query.cursor"]);
    let other_list = app
        .get(&a.admin, &format!("/v1/audit?limit=2&cursor={cursor}"))
        .await
        .expect(400);
    assert_eq!(other_list.fields(), vec!["query.cursor"]);

    // The other agency sees none of it, even asking for this project by id.
    let theirs = app.get(&g.admin, &entity).await.expect(200).body;
    assert_eq!(theirs["items"], json!([]));
    let theirs_all = all_pages(&app, &g.admin, "/v1/audit?limit=200").await;
    let text = Value::Array(theirs_all).to_string();
    assert!(!text.contains(&a.project) && !text.contains(&a.client));
}

#[tokio::test]
async fn audit_filters_and_pages_are_checked() {
    let app = app();
    let a = studio(&app, "acme").await;
    for (query, field) in [
        ("entity_kind=project", "query.entity_id"),
        ("entity_id=abc", "query.entity_kind"),
        ("entity_kind=pro%23ject&entity_id=abc", "query.entity_kind"),
        ("entity_kind=project&entity_id=a%23b", "query.entity_id"),
        ("limit=0", "query.limit"),
        ("limit=201", "query.limit"),
        ("cursor=forged", "query.cursor"),
        ("since=2026-01-01", "query.since"),
    ] {
        let res = app
            .get(&a.admin, &format!("/v1/audit?{query}"))
            .await
            .expect(400);
        assert_eq!(res.fields(), vec![field], "{query}");
    }
}

// ---- who may read what ----

#[tokio::test]
async fn every_view_answers_only_the_roles_and_tenant_it_is_for() {
    let app = app();
    let a = studio(&app, "acme").await;
    let g = studio(&app, "globex").await;
    let budget = format!("/v1/projects/{}/budget", a.project);
    let paths = [budget.as_str(), "/v1/audit", WEEK, "/v1/reports/wip"];

    // (who, [budget, audit, utilization, wip])
    let matrix = [
        (&a.admin, [200, 200, 200, 200]),
        (&a.finance, [200, 403, 200, 200]),
        (&a.manager, [200, 403, 200, 200]),
        (&a.other_manager, [200, 403, 200, 200]),
        (&a.member, [403, 403, 403, 403]),
        (&a.contractor, [403, 403, 403, 403]),
        (&a.client_user, [403, 403, 403, 403]),
        // People who cannot see the project at all are told it does not exist.
        (&a.outsider, [404, 403, 403, 403]),
        (&a.stray_contractor, [404, 403, 403, 403]),
        // Another agency's admin: this project is not theirs.
        (&g.admin, [404, 200, 200, 200]),
    ];
    for (caller, expected) in matrix {
        for (path, status) in paths.iter().zip(expected) {
            let res = app.get(caller, path).await;
            assert_eq!(
                res.status.as_u16(),
                status,
                "{} {} {path}: {}",
                caller.role,
                caller.person,
                res.body
            );
        }
    }

    // A client user of another client cannot even learn the project exists.
    let other_client = app
        .create(
            &a.admin,
            "/v1/clients",
            json!({"name": "Initech", "currency": "EUR"}),
        )
        .await;
    let stranger = agencyops_apitest::client_user(&a.tenant, "cx", &other_client);
    app.get(&stranger, &budget).await.expect(404);

    // Unknown and malformed project ids.
    app.get(&a.admin, "/v1/projects/nope/budget")
        .await
        .expect(404);
    app.get(&a.admin, "/v1/projects/no%23pe/budget")
        .await
        .expect(404);

    // Nobody unauthenticated.
    for path in paths {
        let res = app
            .raw(None, axum::http::Method::GET, path, None, &[])
            .await;
        assert_eq!(res.status.as_u16(), 401, "{path}");
    }

    // A token claiming a role its person record no longer has gets that record's role.
    let demoted = who(&a.tenant, &a.finance.person, "admin");
    app.get(&demoted, "/v1/audit").await.expect(403);
}

#[test]
fn the_api_document_names_every_view() {
    let doc = serde_json::to_value(agencyops_approvals::openapi()).unwrap();
    let ops: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| p.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for id in [
        "get_project_budget",
        "list_audit",
        "utilization_report",
        "wip_report",
    ] {
        assert!(ops.contains(&id), "{id} in {ops:?}");
    }
}
