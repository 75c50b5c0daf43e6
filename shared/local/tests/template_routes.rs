//! Every operation in a function's OpenAPI document reaches that function in
//! AWS: API Gateway picks, for each request, the most specific route of the
//! template (a literal segment beats a `{variable}`, a named method beats
//! ANY), and that route must belong to the function whose router serves the
//! path. The local host mounts all routers in one process, so a route sent to
//! the wrong Lambda would only ever fail in AWS; this test is where it fails.

use std::path::Path;

use utoipa::OpenApi;

/// (resource, method, path) of every HttpApi event in the template.
fn template_routes() -> Vec<(String, String, String)> {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    let text = std::fs::read_to_string(&template).expect("infra/template.yaml is readable");
    let mut routes = Vec::new();
    let (mut resource, mut method) = (String::new(), String::from("ANY"));
    for line in text.lines() {
        // Resources sit at two spaces: `  IntakeFunction:`.
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            if !name.starts_with(' ') && name.chars().all(|c| c.is_ascii_alphanumeric()) {
                resource = name.to_owned();
            }
        }
        let trimmed = line.trim();
        if let Some(m) = trimmed.strip_prefix("Method: ") {
            method = m.to_owned();
        }
        if let Some(path) = trimmed.strip_prefix("Path: ") {
            routes.push((resource.clone(), method.clone(), path.to_owned()));
            method = "ANY".into();
        }
    }
    routes
}

fn is_var(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Whether `route` matches the OpenAPI `path`: same length, literal segments
/// equal, a route variable matching anything, a path parameter only a variable
/// (a real id could be any string).
fn matches(route: &str, path: &str) -> bool {
    let (r, p): (Vec<_>, Vec<_>) = (route.split('/').collect(), path.split('/').collect());
    r.len() == p.len()
        && r.iter()
            .zip(&p)
            .all(|(r, p)| is_var(r) || (!is_var(p) && r == p))
}

/// Literal segments left to right: the more specific route sorts higher.
fn specificity(route: &str) -> Vec<bool> {
    route.split('/').map(|s| !is_var(s)).collect()
}

#[test]
fn each_operation_is_routed_to_the_function_that_serves_it() {
    let owners = [
        ("IntakeFunction", agencyops_intake::ApiDoc::openapi()),
        ("TimeFunction", agencyops_time::ApiDoc::openapi()),
        ("ApprovalsFunction", agencyops_approvals::openapi()),
        ("ReceiptsFunction", agencyops_receipts::ApiDoc::openapi()),
        ("InvoicingFunction", agencyops_invoicing::ApiDoc::openapi()),
        (
            "ArFollowupsFunction",
            agencyops_ar_followups::ApiDoc::openapi(),
        ),
    ];
    let routes = template_routes();
    assert!(
        routes.len() > 40,
        "the template's routes were read: {}",
        routes.len()
    );
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (owner, doc) in &owners {
        for (path, item) in &doc.paths.paths {
            let methods = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            for (method, present) in methods {
                if !present {
                    continue;
                }
                checked += 1;
                let chosen = routes
                    .iter()
                    .filter(|(_, m, r)| (m == "ANY" || m == method) && matches(r, path))
                    .max_by_key(|(_, m, r)| (specificity(r), m != "ANY"));
                match chosen {
                    Some((resource, _, _)) if resource == owner => {}
                    other => wrong.push(format!(
                        "{method} {path} is served by {owner} but routed to {:?}",
                        other.map(|(res, m, r)| format!("{res} ({m} {r})"))
                    )),
                }
            }
        }
    }
    assert!(checked > 60, "operations checked: {checked}");
    assert!(
        wrong.is_empty(),
        "misrouted operations:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_most_specific_route_wins() {
    assert!(matches("/v1/reports/{report}", "/v1/reports/profitability"));
    assert!(matches(
        "/v1/invoices/{id}/{action}",
        "/v1/invoices/{id}/send"
    ));
    assert!(!matches(
        "/v1/invoices/{id}/send",
        "/v1/invoices/{id}/{action}"
    ));
    assert!(!matches("/v1/invoices/{id}", "/v1/invoices/{id}/send"));
    assert!(specificity("/v1/reports/profitability") > specificity("/v1/reports/{report}"));
    assert!(specificity("/v1/clients/{id}/dunning") > specificity("/v1/clients/{id}/{part}"));
}
