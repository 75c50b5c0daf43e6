//! The OpenAPI document is the contract a fuzzer checks the server against. The
//! statuses the platform itself produces (401 before any handler, 400/413/415
//! from the extractors, 404 for an id that names nothing, 409/412/422 from
//! concurrency, If-Match and Idempotency-Key) are added here, once, from what
//! each operation takes, instead of being copied onto every handler; every
//! error response then carries the one problem+json schema. Links from each
//! create to the operations that take its id are derived from the paths.

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::Link;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};
use utoipa::{PartialSchema, ToSchema};

use crate::error::{FieldError, Problem};

/// The media type of every error body (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Gives every operation the problem responses the platform can return for it,
/// and makes every 4xx/5xx response a problem+json [`Problem`].
pub fn document_problems(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .entry(Problem::name().into_owned())
        .or_insert_with(Problem::schema);
    components
        .schemas
        .entry(FieldError::name().into_owned())
        .or_insert_with(FieldError::schema);
    let authenticated = doc.security.as_ref().is_some_and(|s| !s.is_empty());
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations_mut(item) {
            let secured = op
                .security
                .as_ref()
                .map_or(authenticated, |s| !s.is_empty());
            for (status, why) in platform_statuses(path, method, op, secured) {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::T(Response::new(why)));
            }
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                let Some(title) = error_title(status) else {
                    continue;
                };
                if response.description.is_empty() {
                    response.description = title.to_owned();
                }
                response.content.clear();
                response.content.insert(
                    PROBLEM_JSON.to_owned(),
                    Content::new(Some(Ref::from_schema_name(Problem::name()))),
                );
            }
        }
    }
}

/// What the platform answers for an operation before or around its handler.
fn platform_statuses(
    path: &str,
    method: &str,
    op: &Operation,
    secured: bool,
) -> Vec<(u16, &'static str)> {
    let mut out = Vec::new();
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let has_body = op.request_body.is_some();
    let writes = matches!(method, "post" | "put" | "patch" | "delete");
    if has_params || has_body {
        out.push((
            400,
            "Invalid fields or malformed body (problem `errors` name each one)",
        ));
    }
    if secured {
        out.push((401, "Missing or invalid credentials"));
        // Roles are checked in every operation, and a deactivated person is refused anywhere.
        out.push((
            403,
            "The caller's role may not do this, or the account is deactivated",
        ));
    }
    if path.contains('{') {
        out.push((404, "No such resource, or one the caller may not see"));
    }
    if writes {
        out.push((
            409,
            "Changed concurrently, closed to changes, or a request with this Idempotency-Key is still in progress",
        ));
    }
    if matches!(method, "put" | "patch" | "delete") {
        out.push((412, "If-Match names a version that is no longer current"));
    }
    if has_body {
        out.push((413, "Request body too large"));
        out.push((415, "The body is not declared as application/json"));
    }
    if method == "post" {
        out.push((422, "This Idempotency-Key was used for a different request"));
    }
    out
}

fn error_title(status: &str) -> Option<&'static str> {
    let code: u16 = status.parse().ok()?;
    if !(400..=599).contains(&code) {
        return None;
    }
    Some(match code {
        400 => "Invalid fields or malformed body",
        401 => "Missing or invalid credentials",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        412 => "Precondition failed",
        413 => "Payload too large",
        415 => "Unsupported media type",
        422 => "Idempotency-Key reused",
        _ => "Error",
    })
}

fn operations_mut(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

fn operations(item: &PathItem) -> Vec<(&'static str, &Operation)> {
    [
        ("get", item.get.as_ref()),
        ("put", item.put.as_ref()),
        ("post", item.post.as_ref()),
        ("delete", item.delete.as_ref()),
        ("patch", item.patch.as_ref()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// The names of a path's `{parameters}`, in order.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// Adds a link from each create (`POST` answering 201 on a collection) to every
/// operation under `{collection}/{new id}`: the created resource's `id` fills
/// that parameter and the create's own path parameters fill theirs. Operations
/// needing a parameter neither provides (e.g. an ISO week) get no link.
pub fn link_creates(doc: &mut OpenApi) {
    let mut links: Vec<(String, String, Link)> = Vec::new();
    for (create_path, item) in &doc.paths.paths {
        let Some(create) = item.post.as_ref() else {
            continue;
        };
        if !create.responses.responses.contains_key("201") {
            continue;
        }
        let own = path_params(create_path);
        let prefix = format!("{create_path}/{{");
        for (target_path, target_item) in &doc.paths.paths {
            let Some(rest) = target_path.strip_prefix(&prefix) else {
                continue;
            };
            let Some((new_param, _)) = rest.split_once('}') else {
                continue;
            };
            let params = path_params(target_path);
            if params.iter().any(|p| *p != new_param && !own.contains(p)) {
                continue;
            }
            for (_, target) in operations(target_item) {
                let Some(target_id) = target.operation_id.as_deref() else {
                    continue;
                };
                // utoipa 5.5 writes `Link::operation_id` as `operation_id`, which no
                // OpenAPI tool reads; the spec's `operationId` goes in as a field of its own.
                let mut link = Link::builder()
                    .extensions(Some(Extensions::from_iter([("operationId", target_id)])));
                for p in &params {
                    let value = if *p == new_param {
                        "$response.body#/id".to_owned()
                    } else {
                        format!("$request.path.{p}")
                    };
                    link = link.parameter(*p, value);
                }
                links.push((create_path.clone(), target_id.to_owned(), link.build()));
            }
        }
    }
    for (create_path, name, link) in links {
        let created = doc
            .paths
            .paths
            .get_mut(&create_path)
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.responses.responses.get_mut("201"));
        if let Some(RefOr::T(response)) = created {
            response.links.insert(name, RefOr::T(link));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{OpenApiBuilder, PathsBuilder};

    fn op(id: &str, path_params: &[&str], body: bool, created: bool) -> Operation {
        let mut b = OperationBuilder::new()
            .operation_id(Some(id))
            .response(if created { "201" } else { "200" }, Response::new("ok"));
        for p in path_params {
            b = b.parameter(
                ParameterBuilder::new()
                    .name(*p)
                    .parameter_in(ParameterIn::Path),
            );
        }
        if body {
            b = b.request_body(Some(RequestBodyBuilder::new().build()));
        }
        b.response("400", Response::new("")).build()
    }

    fn doc() -> OpenApi {
        let paths = PathsBuilder::new()
            .path(
                "/v1/clients",
                PathItem::new(HttpMethod::Post, op("create_client", &[], true, true)),
            )
            .path("/v1/clients/{id}", {
                let mut item =
                    PathItem::new(HttpMethod::Get, op("get_client", &["id"], false, false));
                item.patch = Some(op("patch_client", &["id"], true, false));
                item
            })
            .path(
                "/v1/clients/{id}/contacts",
                PathItem::new(HttpMethod::Post, op("create_contact", &["id"], true, true)),
            )
            .path(
                "/v1/clients/{id}/contacts/{contact_id}",
                PathItem::new(
                    HttpMethod::Get,
                    op("get_contact", &["id", "contact_id"], false, false),
                ),
            )
            .path(
                "/v1/clients/{id}/weeks/{week}",
                PathItem::new(
                    HttpMethod::Get,
                    op("get_week", &["id", "week"], false, false),
                ),
            )
            .build();
        let mut doc = OpenApiBuilder::new().paths(paths).build();
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        doc
    }

    fn json(doc: &OpenApi) -> serde_json::Value {
        serde_json::to_value(doc).expect("serializable")
    }

    #[test]
    fn every_error_is_problem_json_and_platform_statuses_are_added() {
        let mut d = doc();
        document_problems(&mut d);
        let v = json(&d);
        let patch = &v["paths"]["/v1/clients/{id}"]["patch"]["responses"];
        for s in ["400", "401", "403", "404", "409", "412", "413", "415"] {
            assert_eq!(
                patch[s]["content"][PROBLEM_JSON]["schema"]["$ref"], "#/components/schemas/Problem",
                "{s}"
            );
        }
        assert!(
            patch.get("422").is_none(),
            "422 is for POST's Idempotency-Key"
        );
        let get = &v["paths"]["/v1/clients/{id}"]["get"]["responses"];
        assert!(get.get("415").is_none() && get.get("412").is_none());
        assert_eq!(get["200"]["description"], "ok");
        assert!(get["200"].get("content").is_none());
        let create = &v["paths"]["/v1/clients"]["post"]["responses"];
        assert!(create.get("404").is_none(), "no id in the path");
        assert!(create.get("422").is_some());
        assert_ne!(create["400"]["description"], "");
        assert!(v["components"]["schemas"]["Problem"].is_object());
    }

    #[test]
    fn creates_link_to_what_takes_their_id() {
        let mut d = doc();
        link_creates(&mut d);
        let v = json(&d);
        let links = &v["paths"]["/v1/clients"]["post"]["responses"]["201"]["links"];
        assert_eq!(links["get_client"]["operationId"], "get_client");
        assert_eq!(
            links["get_client"]["parameters"]["id"],
            "$response.body#/id"
        );
        assert!(links["patch_client"].is_object());
        assert!(links.get("get_contact").is_none(), "needs a contact id");
        let nested = &v["paths"]["/v1/clients/{id}/contacts"]["post"]["responses"]["201"]["links"];
        assert_eq!(
            nested["get_contact"]["parameters"]["id"],
            "$request.path.id"
        );
        assert_eq!(
            nested["get_contact"]["parameters"]["contact_id"],
            "$response.body#/id"
        );
        assert!(
            links.get("get_week").is_none(),
            "a week is not in the response"
        );
    }
}
