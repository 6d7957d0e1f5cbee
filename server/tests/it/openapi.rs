//! The OpenAPI document and reference page: generated from the route table, complete, and
//! consistent with what the router serves.

use crate::common::*;
use serde_json::Value;
use std::collections::HashSet;

async fn document(app: &TestApp) -> Value {
    let res = app
        .client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("openapi");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("content type")
        .starts_with("application/json"));
    res.json().await.expect("json")
}

#[tokio::test]
async fn the_document_describes_every_family_of_routes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, method) in [
        ("/api/v1/lineage", "post"),
        ("/api/v1/lineage", "get"),
        ("/api/2.0/mlflow/runs/log-batch", "post"),
        ("/api/2.0/mlflow/registered-models/alias", "delete"),
        ("/api/v1/experiments/{id}/decision", "post"),
        ("/api/v1/fairness/reports", "post"),
        ("/api/v1/promotions/{id}/approve", "post"),
        ("/api/v1/audit/export", "get"),
        ("/scim/v2/Users/{id}", "patch"),
        (
            "/api/v1/models/{name}/versions/{version}/evidence-pack",
            "get",
        ),
        ("/healthz", "get"),
        ("/api/openapi.json", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is missing"
        );
    }
    let approve = &doc["paths"]["/api/v1/promotions/{id}/approve"]["post"];
    assert_eq!(
        approve["x-gatehouse-roles"],
        serde_json::json!(["reviewer"])
    );
    assert_eq!(
        approve["responses"]["403"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Error"
    );

    // Every operation has a unique id and declares each of its path's parameters.
    let mut ids = HashSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let id = op["operationId"].as_str().expect("operationId").to_owned();
            assert!(ids.insert(id.clone()), "duplicate operationId {id}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path}: no summary"
            );
            for p in server::api::path_params(path) {
                assert!(
                    op["parameters"]
                        .as_array()
                        .expect("parameters")
                        .iter()
                        .any(|x| x["name"] == p && x["in"] == "path"),
                    "{method} {path}: path parameter {p} undeclared"
                );
            }
        }
    }
}

#[tokio::test]
async fn no_route_is_registered_outside_the_documented_table() {
    // Routes go through `api::Api`, which documents each; a plain axum registration anywhere
    // else would serve an operation the document does not have.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("src/api.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read file");
            for (n, line) in text.lines().enumerate() {
                if [".route(", ".route_service(", ".nest(", ".nest_service("]
                    .iter()
                    .any(|p| line.contains(p))
                {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "routes registered around the documented table:\n{}",
        offenders.join("\n")
    );
}

#[tokio::test]
async fn every_public_operation_is_served_and_the_reference_page_lists_every_path() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let client = app.client();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if let Some(op) = item.get("get") {
            if op["security"].as_array().is_some_and(|s| s.is_empty()) && !path.contains('{') {
                let res = client.get(app.url(path)).send().await.expect("get");
                assert_eq!(res.status(), 200, "GET {path}");
            }
        }
    }
    let page = client
        .get(app.url("/api/docs"))
        .send()
        .await
        .expect("docs")
        .text()
        .await
        .expect("text");
    for path in doc["paths"].as_object().expect("paths").keys() {
        assert!(
            page.contains(&format!("<code>{path}</code>")),
            "{path} not on the page"
        );
    }
    assert!(page.contains("who may call") || page.contains("Who may call"));
}

#[tokio::test]
async fn every_json_body_is_described_by_its_rust_type() {
    // Handlers read JSON through `JsonBody<T>`, whose `T` the document describes: a body
    // parsed by hand would show here as an untyped object.
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut untyped = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            if !schema.is_null() && *schema == serde_json::json!({ "type": "object" }) {
                untyped.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        untyped.is_empty(),
        "JSON bodies without a type: {untyped:?}"
    );
    let analyze = &doc["paths"]["/api/v1/ab/analyze"]["post"];
    assert_eq!(
        analyze["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/AnalysisRequest"
    );
    assert_eq!(
        analyze["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Analysis"
    );
    assert!(doc["components"]["schemas"]["AnalysisRequest"]["properties"]["variants"].is_object());
    let created = &doc["paths"]["/api/v1/experiments"]["post"]["responses"];
    assert!(
        created["201"].is_object() && created["409"].is_object(),
        "{created}"
    );
    let revoke = &doc["paths"]["/api/v1/experiments/{id}/share/{link}"]["delete"]["responses"];
    assert!(
        revoke["204"].is_object() && revoke["404"].is_object(),
        "{revoke}"
    );
}

#[tokio::test]
async fn every_json_answer_of_gatehouse_own_api_is_typed() {
    // Gatehouse's own API (`/api/v1`) answers types a generated client can read; only the
    // MLflow-compatible routes keep MLflow's wire format, described by MLflow's protos.
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut untyped = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for (method, op) in item.as_object().expect("item") {
            for (status, response) in op["responses"].as_object().expect("responses") {
                let schema = &response["content"]["application/json"]["schema"];
                let described = schema.get("$ref").is_some()
                    || schema.get("type").is_some()
                    || schema.get("properties").is_some();
                if status.starts_with('2') && !schema.is_null() && !described {
                    untyped.push(format!("{method} {path} {status}: {schema}"));
                }
            }
        }
    }
    assert!(untyped.is_empty(), "untyped answers: {untyped:#?}");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let proof = &schemas["InclusionProof"]["properties"];
    assert!(schemas["CheckpointView"]["properties"]["public_key"].is_object());
    assert!(proof["audit_path"]["items"]["type"] == "string", "{proof}");
    let graph = &doc["paths"]["/api/v1/lineage"]["get"]["responses"]["200"];
    assert_eq!(
        graph["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Graph"
    );
    assert!(schemas["GraphNode"]["properties"]["inEdges"].is_object());
    // Two Rust types with one name would share a schema or get a numbered one.
    let numbered: Vec<&String> = schemas
        .keys()
        .filter(|k| k.ends_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(numbered.is_empty(), "schemas named twice: {numbered:?}");
}
