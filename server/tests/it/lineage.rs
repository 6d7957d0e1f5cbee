//! The OpenLineage API against a real temporary database through the real router.

use crate::common::{spawn_app, spawn_app_with, TestApp};
use app::domain::roles::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::Write;

const PRODUCER: &str = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python";
const PG: &str = "postgres://db.internal:5432";

struct Lineage {
    app: TestApp,
    client: reqwest::Client,
    token: String,
}

impl Lineage {
    async fn new() -> Lineage {
        Lineage::on(spawn_app().await).await
    }

    async fn on(app: TestApp) -> Lineage {
        app.user("pipeline", &[Role::Scientist]).await;
        let token = app::service::accounts::create_token(
            &app.pool,
            "test",
            "pipeline",
            "airflow",
            app::service::accounts::Issue::operator(),
        )
        .await
        .unwrap()
        .token;
        let client = app.client();
        Lineage { app, client, token }
    }

    async fn send_raw(&self, body: Vec<u8>, gzip: bool) -> (StatusCode, String) {
        let mut req = self
            .client
            .post(self.app.url("/api/v1/lineage"))
            .bearer_auth(&self.token)
            .header("content-type", "application/json");
        if gzip {
            req = req.header("content-encoding", "gzip");
        }
        let r = req.body(body).send().await.unwrap();
        let status = r.status();
        (status, r.text().await.unwrap())
    }

    async fn send(&self, event: &Value) -> (StatusCode, String) {
        self.send_raw(event.to_string().into_bytes(), false).await
    }

    async fn ok(&self, event: &Value) {
        let (status, body) = self.send(event).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body.is_empty(), "201 has an empty body: {body}");
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(self.app.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Edges of the graph around a node as sorted "origin -> destination" lines.
    async fn edges(&self, node: &str, query: &str) -> Vec<String> {
        let (status, v) = self
            .get(&format!(
                "/api/v1/lineage?nodeId={}{query}",
                urlencode(node)
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let mut out: Vec<String> = v["graph"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|n| n["outEdges"].as_array().unwrap().clone())
            .map(|e| {
                format!(
                    "{} -> {}",
                    e["origin"].as_str().unwrap(),
                    e["destination"].as_str().unwrap()
                )
            })
            .collect();
        out.sort();
        out
    }

    async fn nodes(&self, node: &str, query: &str) -> Vec<String> {
        let (_, v) = self
            .get(&format!(
                "/api/v1/lineage?nodeId={}{query}",
                urlencode(node)
            ))
            .await;
        let mut out: Vec<String> = v["graph"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
        out.sort();
        out
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }
}

/// The explorer page centred on `node`, as `client` sees it, without Leptos' hydration markers.
async fn explorer_html(client: &reqwest::Client, app: &TestApp, node: &str) -> String {
    client
        .get(app.url(&format!("/lineage?node={}", urlencode(node))))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .replace("<!-- -->", "")
        .replace("<!>", "")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn ds(namespace: &str, name: &str) -> Value {
    json!({ "namespace": namespace, "name": name })
}

fn run_event(
    event_type: &str,
    time: &str,
    run_id: &str,
    job: &str,
    inputs: Vec<Value>,
    outputs: Vec<Value>,
) -> Value {
    json!({
        "eventType": event_type,
        "eventTime": time,
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
        "run": { "runId": run_id, "facets": {} },
        "job": { "namespace": "etl", "name": job, "facets": {} },
        "inputs": inputs,
        "outputs": outputs,
    })
}

const R1: &str = "0176a8c2-fe01-7439-87e6-56a1a1b4029f";
const R2: &str = "0176a8c2-fe01-7439-87e6-56a1a1b40300";
const R3: &str = "0176a8c2-fe01-7439-87e6-56a1a1b40301";

/// raw.loans → clean_loans → clean.loans → build_features → features.loans (with schema,
/// column lineage and a second run that fails).
fn pipeline() -> Vec<Value> {
    let schema = json!({ "schema": { "_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
        "fields": [{ "name": "loan_id", "type": "BIGINT" }, { "name": "zip", "type": "TEXT" }] } });
    let mut clean_out = ds("warehouse", "clean.loans");
    clean_out["facets"] = schema.clone();
    let mut features = ds("warehouse", "features.loans");
    features["facets"] = json!({ "columnLineage": { "fields": { "zip_bucket": { "inputFields": [
        { "namespace": "warehouse", "name": "clean.loans", "field": "zip" }] } } } });
    let mut failed = run_event(
        "FAIL",
        "2026-11-20T02:10:00Z",
        R3,
        "build_features",
        vec![ds("warehouse", "clean.loans")],
        vec![],
    );
    failed["run"]["facets"]["errorMessage"] =
        json!({ "message": "column zip missing", "programmingLanguage": "python" });
    vec![
        run_event(
            "START",
            "2026-11-19T01:00:00Z",
            R1,
            "clean_loans",
            vec![ds(PG, "raw.loans")],
            vec![],
        ),
        run_event(
            "COMPLETE",
            "2026-11-19T01:05:00Z",
            R1,
            "clean_loans",
            vec![ds(PG, "raw.loans")],
            vec![clean_out],
        ),
        run_event(
            "START",
            "2026-11-19T02:00:00Z",
            R2,
            "build_features",
            vec![ds("warehouse", "clean.loans")],
            vec![],
        ),
        run_event(
            "COMPLETE",
            "2026-11-19T02:07:30Z",
            R2,
            "build_features",
            vec![ds("warehouse", "clean.loans")],
            vec![features],
        ),
        run_event(
            "START",
            "2026-11-20T02:00:00Z",
            R3,
            "build_features",
            vec![ds("warehouse", "clean.loans")],
            vec![],
        ),
        failed,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_type_is_accepted_and_audited_once_per_request() {
    let l = Lineage::new().await;
    let audit_before = l.app.audit_count().await;
    let run = "3f5e2b1c-1111-4222-8333-944455556666";
    for (i, t) in ["START", "RUNNING", "OTHER", "ABORT", "FAIL", "COMPLETE"]
        .iter()
        .enumerate()
    {
        let e = run_event(
            t,
            &format!("2026-11-27T10:0{i}:00+01:00"),
            run,
            "etl.job",
            vec![ds("s3://raw", "a")],
            vec![ds("s3://clean", "b")],
        );
        l.ok(&e).await;
    }
    // A DatasetEvent and a JobEvent (static metadata).
    l.ok(&json!({ "eventTime": "2026-11-27T11:00:00Z", "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/DatasetEvent",
        "dataset": { "namespace": "s3://raw", "name": "a", "facets": { "schema": { "fields": [{ "name": "x", "type": "INT" }] } } } }))
        .await;
    l.ok(&json!({ "eventTime": "2026-11-27T11:00:00Z", "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/JobEvent",
        "job": { "namespace": "etl", "name": "etl.report" }, "inputs": [ds("s3://clean", "b")], "outputs": [ds("s3://reports", "weekly")] }))
        .await;
    assert_eq!(l.count("lineage_events").await, 8);
    assert_eq!(
        l.app.audit_count().await - audit_before,
        8,
        "one audit entry per request"
    );

    // The run's state is its terminal event's, with its timings.
    let (state, started, ended): (String, String, Option<String>) =
        sqlx::query_as("SELECT state, started_at, ended_at FROM lineage_runs WHERE run_id = $1")
            .bind(run)
            .fetch_one(&l.app.pool)
            .await
            .unwrap();
    assert_eq!(state, "COMPLETE");
    assert_eq!(started, "2026-11-27T09:00:00.000000Z");
    assert_eq!(
        ended.as_deref(),
        Some("2026-11-27T09:05:00.000000Z"),
        "the last terminal event"
    );
    let fields: String = sqlx::query_scalar("SELECT fields FROM lineage_datasets WHERE name = 'a'")
        .fetch_one(&l.app.pool)
        .await
        .unwrap();
    assert!(fields.contains("\"x\""), "{fields}");
    assert_eq!(
        l.edges("job:etl:etl.report", "").await,
        vec![
            "dataset:s3://clean:b -> job:etl:etl.report",
            "dataset:s3://raw:a -> job:etl:etl.job",
            "job:etl:etl.job -> dataset:s3://clean:b",
            "job:etl:etl.report -> dataset:s3://reports:weekly",
        ]
    );
    let actions = l.app.audit_actions().await;
    assert!(actions
        .iter()
        .any(|(actor, a, id)| actor == "pipeline/token:airflow"
            && a == "lineage.ingest"
            && id == run));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_are_inflated_within_the_limit() {
    let app = spawn_app_with(
        Default::default(),
        server::ServeSettings {
            max_body_bytes: 64 * 1024,
            ..Default::default()
        },
    )
    .await;
    let l = Lineage::on(app).await;
    let gz = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    let event = run_event(
        "START",
        "2026-11-27T10:00:00Z",
        R1,
        "gz",
        vec![ds("a", "b")],
        vec![],
    );
    let (status, body) = l.send_raw(gz(event.to_string().as_bytes()), true).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(l.count("lineage_runs").await, 1);

    let (status, body) = l.send_raw(b"not gzip at all".to_vec(), true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("gzip"), "{body}");

    // 1 MB of spaces compresses to about 1 KB but inflates past the 64 KB limit.
    let mut bomb = event.to_string().into_bytes();
    bomb.extend(std::iter::repeat_n(b' ', 1 << 20));
    let (status, body) = l.send_raw(gz(&bomb), true).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (status, _) = l.send_raw(bomb, false).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(l.count("lineage_events").await, 1, "nothing more stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_events_name_the_field_and_store_nothing() {
    let l = Lineage::new().await;
    let good = run_event(
        "START",
        "2026-11-27T10:00:00Z",
        R1,
        "j",
        vec![ds("a", "b")],
        vec![],
    );
    let audit_before = l.app.audit_count().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut e = good.clone();
                e["run"].as_object_mut().unwrap().remove("runId");
                e
            },
            "/run/runId",
        ),
        (
            {
                let mut e = good.clone();
                e["run"]["runId"] = json!("run-1");
                e
            },
            "/run/runId",
        ),
        (
            {
                let mut e = good.clone();
                e["eventType"] = json!("FINISHED");
                e
            },
            "/eventType",
        ),
        (
            {
                let mut e = good.clone();
                e["eventTime"] = json!("27/11/2026 10:00");
                e
            },
            "/eventTime",
        ),
        (
            {
                let mut e = good.clone();
                e["eventTime"] = json!(1764237600);
                e
            },
            "/eventTime",
        ),
        (
            {
                let mut e = good.clone();
                e["inputs"] = json!("a,b");
                e
            },
            "/inputs",
        ),
        (
            {
                let mut e = good.clone();
                e["outputs"] = json!([{ "namespace": "a" }]);
                e
            },
            "/outputs/0/name",
        ),
        (
            {
                let mut e = good.clone();
                e["job"]["name"] = json!(["j"]);
                e
            },
            "/job/name",
        ),
        (
            {
                let mut e = good.clone();
                e["run"]["facets"]["parent"] =
                    json!({ "run": { "runId": "x" }, "job": { "namespace": "n", "name": "p" } });
                e
            },
            "/run/facets/parent/run/runId",
        ),
    ];
    for (event, pointer) in cases {
        let (status, body) = l.send(&event).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{pointer}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["field"], pointer, "{body}");
        assert!(v["message"].as_str().unwrap().contains(pointer), "{body}");
    }
    let (status, _) = l.send_raw(b"{ not json".to_vec(), false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for table in [
        "lineage_events",
        "lineage_runs",
        "lineage_jobs",
        "lineage_datasets",
        "lineage_namespaces",
    ] {
        assert_eq!(l.count(table).await, 0, "{table} is empty");
    }
    assert_eq!(l.app.audit_count().await, audit_before, "nothing audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_a_scientist_and_reads_a_viewer() {
    let l = Lineage::new().await;
    let e = run_event(
        "START",
        "2026-11-27T10:00:00Z",
        R1,
        "j",
        vec![],
        vec![ds("a", "b")],
    );
    let anonymous = l
        .app
        .client()
        .post(l.app.url("/api/v1/lineage"))
        .json(&e)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    l.app.user("vic", &[Role::Viewer]).await;
    let viewer_token = app::service::accounts::create_token(
        &l.app.pool,
        "test",
        "vic",
        "ro",
        app::service::accounts::Issue::operator(),
    )
    .await
    .unwrap()
    .token;
    let r = l
        .app
        .client()
        .post(l.app.url("/api/v1/lineage"))
        .bearer_auth(&viewer_token)
        .json(&e)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    l.ok(&e).await;
    let r = l
        .app
        .client()
        .get(l.app.url("/api/v1/lineage?nodeId=job:etl:j"))
        .bearer_auth(&viewer_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = l
        .app
        .client()
        .get(l.app.url("/api/v1/search?q=j"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Every derived table, as sorted text: two stores holding the same events must agree.
async fn graph_state(l: &Lineage) -> Vec<String> {
    let mut out = Vec::new();
    for q in [
        "SELECT run_id || ' ' || state || ' ' || started_at || ' ' || coalesce(ended_at, '-') || ' ' || job_version || ' ' || coalesce(error_message, '-') || ' ' || facets FROM lineage_runs",
        "SELECT j.name || ' ' || coalesce(j.current_version, '-') || ' ' || j.facets FROM lineage_jobs j",
        "SELECT j.name || ' ' || v.version FROM lineage_job_versions v JOIN lineage_jobs j USING (job_id)",
        "SELECT j.name || ' ' || io.version || ' ' || io.direction || ' ' || d.name FROM lineage_job_io io JOIN lineage_jobs j USING (job_id) JOIN lineage_datasets d USING (dataset_id)",
        "SELECT d.namespace || ' ' || d.name || ' ' || d.fields || ' ' || d.facets || ' ' || coalesce(d.current_version, '-') FROM lineage_datasets d",
        "SELECT d.name || ' ' || v.version || ' ' || v.fields || ' ' || v.column_lineage FROM lineage_dataset_versions v JOIN lineage_datasets d USING (dataset_id)",
        "SELECT r.run_id || ' ' || io.direction || ' ' || d.name FROM lineage_run_io io JOIN lineage_runs r USING (run_id) JOIN lineage_datasets d USING (dataset_id)",
    ] {
        let mut rows: Vec<String> = sqlx::query_scalar(q).fetch_all(&l.app.pool).await.unwrap();
        rows.sort();
        out.push(rows.join("\n"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_and_out_of_order_events_give_the_same_graph() {
    let (a, b) = (Lineage::new().await, Lineage::new().await);
    let events = pipeline();
    for e in &events {
        a.ok(e).await;
    }
    // Reversed, interleaved, and every event twice.
    let mut shuffled: Vec<&Value> = events.iter().rev().collect();
    shuffled.swap(1, 4);
    for e in shuffled
        .iter()
        .chain(events.iter().collect::<Vec<_>>().iter())
    {
        b.ok(e).await;
    }
    assert_eq!(a.count("lineage_events").await, 6);
    assert_eq!(
        b.count("lineage_events").await,
        6,
        "duplicates are not stored twice"
    );
    assert_eq!(graph_state(&a).await, graph_state(&b).await);
    let node = "dataset:warehouse:clean.loans";
    assert_eq!(a.edges(node, "").await, b.edges(node, "").await);

    let (failed, error): (String, Option<String>) =
        sqlx::query_as("SELECT state, error_message FROM lineage_runs WHERE run_id = $1")
            .bind(R3)
            .fetch_one(&b.app.pool)
            .await
            .unwrap();
    assert_eq!(
        (failed.as_str(), error.as_deref()),
        ("FAIL", Some("column zip missing"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lineage_queries_walk_up_and_down_to_the_asked_depth() {
    let l = Lineage::new().await;
    for e in pipeline() {
        l.ok(&e).await;
    }
    let raw = format!("dataset:{PG}:raw.loans");
    let clean = "dataset:warehouse:clean.loans";
    assert_eq!(
        l.nodes(clean, "&depth=1").await,
        vec![clean, "job:etl:build_features", "job:etl:clean_loans"]
    );
    assert_eq!(
        l.nodes(clean, "&depth=2").await,
        vec![
            raw.as_str(),
            clean,
            "dataset:warehouse:features.loans",
            "job:etl:build_features",
            "job:etl:clean_loans"
        ]
    );
    assert_eq!(
        l.nodes(clean, "&upstreamDepth=0&downstreamDepth=2").await,
        vec![
            clean,
            "dataset:warehouse:features.loans",
            "job:etl:build_features"
        ]
    );
    // Depth N (the default) reaches the whole chain from its source, with its edges.
    assert_eq!(
        l.edges(&raw, "").await,
        vec![
            format!("{raw} -> job:etl:clean_loans"),
            "dataset:warehouse:clean.loans -> job:etl:build_features".into(),
            "job:etl:build_features -> dataset:warehouse:features.loans".into(),
            "job:etl:clean_loans -> dataset:warehouse:clean.loans".into(),
        ]
    );
    // A node id whose namespace is a URI with its own colons round-trips, URL-encoded.
    let (status, v) = l
        .get(&format!(
            "/api/v1/lineage?nodeId={}&depth=1",
            urlencode(&raw)
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let node = v["graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == raw.as_str())
        .unwrap()
        .clone();
    assert_eq!(node["type"], "DATASET");
    assert_eq!(node["data"]["namespace"], PG);
    assert_eq!(node["hiddenDownstream"], 0);
    // Hidden neighbours are counted on the frontier.
    let (_, v) = l
        .get(&format!(
            "/api/v1/lineage?nodeId={}&depth=0",
            urlencode(clean)
        ))
        .await;
    assert_eq!(v["graph"][0]["hiddenUpstream"], 1);
    assert_eq!(v["graph"][0]["hiddenDownstream"], 1);
    // The job's latest run is the failed one.
    let (_, v) = l
        .get("/api/v1/lineage?nodeId=job:etl:build_features&depth=0")
        .await;
    assert_eq!(v["graph"][0]["data"]["latestRun"]["state"], "FAIL");

    let (status, v) = l.get("/api/v1/lineage?nodeId=dataset:warehouse:nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let (status, v) = l.get("/api/v1/lineage?nodeId=table:a:b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "nodeId");
    let (status, v) = l
        .get(&format!("/api/v1/lineage?nodeId={clean}&depth=-1"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "depth");

    let (status, v) = l.get("/api/v1/search?q=loans").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["nodeId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            "dataset:warehouse:clean.loans",
            "job:etl:clean_loans",
            "dataset:warehouse:features.loans",
            raw.as_str()
        ]
    );
    let (_, v) = l.get("/api/v1/search?q=build_features").await;
    assert_eq!(
        v["results"][0]["nodeId"], "job:etl:build_features",
        "exact names first"
    );
    let (status, _) = l.get("/api/v1/search?q=").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // `%` and `_` are characters to find, not wildcards: no name here holds `%` or eight `_`.
    for q in ["%25", "%25%25%25%25%25%25%25%25", "________"] {
        let (status, v) = l.get(&format!("/api/v1/search?q={q}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["results"], serde_json::json!([]), "q={q}");
    }
    let (_, v) = l.get("/api/v1/search?q=_").await;
    for r in v["results"].as_array().unwrap() {
        assert!(r["nodeId"].as_str().unwrap().contains('_'), "{r}");
    }
}

/// A level's nodes are sent to the database as one array of keys: names holding the array
/// syntax's quotes, backslashes, commas, braces and the word NULL are read back as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_quotes_backslashes_and_braces_walk_like_any_other() {
    let l = Lineage::new().await;
    let odd = [r#"a "quoted", {braced} name"#, r"back\slash\", "NULL", "{}"];
    let inputs = odd.iter().map(|n| ds("lake, \"odd\"", n)).collect();
    let out = vec![ds("lake", "odd.out")];
    l.ok(&run_event(
        "COMPLETE",
        "2026-11-20T10:00:00Z",
        R1,
        "odd {job}",
        inputs,
        out,
    ))
    .await;
    let mut expected: Vec<String> = odd
        .iter()
        .map(|n| format!("dataset:lake, \"odd\":{n} -> job:etl:odd {{job}}"))
        .collect();
    expected.push("job:etl:odd {job} -> dataset:lake:odd.out".into());
    expected.sort();
    assert_eq!(l.edges("dataset:lake:odd.out", "&depth=2").await, expected);
}

/// A walk reads a level of nodes at a time; one past the node limit stops at the limit, says
/// so, and counts what it left out as hidden.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_past_the_node_limit_stops_there_and_counts_the_rest_hidden() {
    let l = Lineage::new().await;
    // Three jobs write one dataset, each from 700 of its own (an event takes at most 1,000).
    for (job, run) in [("wide_a", R1), ("wide_b", R2), ("wide_c", R3)] {
        let inputs = (0..700)
            .map(|i| ds("lake", &format!("{job}.t{i:03}")))
            .collect();
        let out = vec![ds("lake", "wide.out")];
        l.ok(&run_event(
            "COMPLETE",
            "2026-11-20T10:00:00Z",
            run,
            job,
            inputs,
            out,
        ))
        .await;
    }
    let page = "/api/v1/lineage?nodeId=dataset:lake:wide.out&upstreamDepth=2&downstreamDepth=0";
    let (status, v) = l.get(page).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["truncated"], true);
    let graph = v["graph"].as_array().unwrap();
    assert_eq!(graph.len(), 2000, "the limit, MAX_GRAPH_NODES");
    let node = |id: &str| graph.iter().find(|n| n["id"] == id);
    // The dataset, its three jobs, then their inputs in order until the limit: all of the
    // first two jobs' and 596 of the third's.
    for (job, shown, hidden) in [("wide_a", 700, 0), ("wide_b", 700, 0), ("wide_c", 596, 104)] {
        let j = node(&format!("job:etl:{job}")).unwrap();
        assert_eq!(j["inEdges"].as_array().unwrap().len(), shown, "{job}");
        assert_eq!(j["hiddenUpstream"], hidden, "{job}");
        assert_eq!(j["outEdges"][0]["destination"], "dataset:lake:wide.out");
    }
    assert!(node("dataset:lake:wide_c.t595").is_some());
    assert!(node("dataset:lake:wide_c.t596").is_none());
    // Each input shown knows its job, read in its level's one statement.
    let input = node("dataset:lake:wide_b.t042").unwrap();
    assert_eq!(input["outEdges"][0]["destination"], "job:etl:wide_b");
    assert_eq!(input["data"]["name"], "wide_b.t042");
    // Within the limit nothing is left out.
    let (_, v) = l.get("/api/v1/lineage?nodeId=job:etl:wide_a&depth=1").await;
    assert_eq!(v["truncated"], false);
    assert_eq!(v["graph"].as_array().unwrap().len(), 702);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mlflow_training_runs_join_the_graph() {
    let l = Lineage::new().await;
    for e in pipeline() {
        l.ok(&e).await;
    }
    // An MLflow run that logged features.loans as its training input…
    let post = |path: &str, body: Value| {
        l.client
            .post(l.app.url(&format!("/api/2.0/mlflow/{path}")))
            .bearer_auth(&l.token)
            .json(&body)
            .send()
    };
    let exp: Value = post("experiments/create", json!({ "name": "credit" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run: Value = post(
        "runs/create",
        json!({ "experiment_id": exp["experiment_id"], "run_name": "xgb-1" }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mlflow_run = run["run"]["info"]["run_id"].as_str().unwrap().to_owned();
    let r = post(
        "runs/log-inputs",
        json!({ "run_id": mlflow_run, "datasets": [{ "dataset": {
        "name": "features.loans", "digest": "abc", "source_type": "s3", "source": "{}" } }] }),
    )
    .await
    .unwrap();
    assert!(r.status().is_success());
    // …and an OpenLineage run of the training job that names it in the `mlflow` run facet.
    let mut train = run_event(
        "COMPLETE",
        "2026-11-19T03:00:00Z",
        "0176a8c2-fe01-7439-87e6-56a1a1b40400",
        "train_credit",
        vec![ds("warehouse", "features.loans")],
        vec![],
    );
    train["run"]["facets"]["mlflow"] = json!({ "_producer": PRODUCER, "_schemaURL": "https://gatehouse.dev/facets/MlflowRunFacet.json", "runId": mlflow_run });
    l.ok(&train).await;

    let run_node = format!("run:{mlflow_run}");
    let edges = l.edges(&run_node, "&depth=1").await;
    assert_eq!(
        edges,
        vec![
            "dataset:warehouse:features.loans -> job:etl:train_credit".to_string(),
            format!("dataset:warehouse:features.loans -> {run_node}"),
            format!("job:etl:train_credit -> {run_node}"),
        ]
    );
    // The training run is downstream of the raw table, three jobs away.
    let nodes = l
        .nodes(&format!("dataset:{PG}:raw.loans"), "&upstreamDepth=0")
        .await;
    assert!(nodes.contains(&run_node), "{nodes:?}");
    let (_, v) = l
        .get(&format!("/api/v1/lineage?nodeId={run_node}&depth=0"))
        .await;
    assert_eq!(v["graph"][0]["type"], "RUN");
    assert_eq!(v["graph"][0]["data"]["name"], "xgb-1");
    let data = &v["graph"][0]["data"];
    assert_eq!(data["experimentId"], exp["experiment_id"], "{data}");
    assert_eq!(data["status"], "RUNNING", "{data}");
    assert!(data["startTime"].as_i64().is_some_and(|t| t > 0), "{data}");
    // A dataset's node: its schema and current version.
    let (_, v) = l
        .get("/api/v1/lineage?nodeId=dataset:warehouse:features.loans&depth=0")
        .await;
    let data = &v["graph"][0]["data"];
    assert!(
        data["fields"].is_array() && data["createdAt"].is_string(),
        "{data}"
    );
    let (_, v) = l.get("/api/v1/search?q=xgb").await;
    assert_eq!(v["results"][0]["nodeId"], run_node.as_str());

    // Its panel in the explorer: the run's status and a link to its page.
    let viewer = l.app.signed_in("vic", &[Role::Viewer]).await;
    let html = explorer_html(&viewer, &l.app, &run_node).await;
    assert!(
        html.contains("MLflow experiment") && html.contains("RUNNING"),
        "run panel"
    );
    assert!(
        html.contains(&format!("/runs/run/{mlflow_run}")),
        "links to the run page"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_events_share_transactions_but_each_is_stored_and_audited() {
    let l = Lineage::new().await;
    let audit_before = l.app.audit_count().await;
    let mut sends = Vec::new();
    for i in 0..40u32 {
        let run = format!("00000000-0000-4000-8000-{i:012x}");
        let e = run_event(
            if i % 2 == 0 { "START" } else { "COMPLETE" },
            &format!("2026-11-27T10:00:{:02}Z", i / 2),
            &run,
            "parallel",
            vec![ds("src", &format!("t{}", i % 3))],
            vec![ds("dst", "out")],
        );
        let (client, url, token) = (
            l.client.clone(),
            l.app.url("/api/v1/lineage"),
            l.token.clone(),
        );
        sends.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&e)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    // One of them repeats another: stored once, still audited (as a duplicate).
    let again = run_event(
        "START",
        "2026-11-27T10:00:00Z",
        "00000000-0000-4000-8000-000000000000",
        "parallel",
        vec![ds("src", "t0")],
        vec![ds("dst", "out")],
    );
    l.ok(&again).await;
    for s in sends {
        assert_eq!(s.await.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(l.count("lineage_events").await, 40);
    assert_eq!(l.count("lineage_runs").await, 40);
    assert_eq!(
        l.app.audit_count().await - audit_before,
        41,
        "one entry per request"
    );
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'lineage.ingest' AND details LIKE '%\"duplicate\":true%'",
    )
    .fetch_one(&l.app.pool)
    .await
    .unwrap();
    assert_eq!(duplicates, 1);
    assert!(app::store::audit::verify(&l.app.pool).await.unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_pipeline_is_sent_through_the_endpoint_once() {
    let app = spawn_app().await;
    app::service::demo::seed(&app.pool).await.unwrap();
    let router = app.router();
    server::demo::seed_tracking(&router, &app.pool)
        .await
        .unwrap();
    server::demo::seed_lineage(&router, &app.pool)
        .await
        .unwrap();
    server::demo::seed_lineage(&router, &app.pool)
        .await
        .unwrap();
    let l = Lineage::on(app).await;
    let events = l.count("lineage_events").await;
    assert_eq!(events, 28, "14 job runs, START and COMPLETE or FAIL, once");
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM lineage_runs WHERE state = 'FAIL'")
        .fetch_one(&l.app.pool)
        .await
        .unwrap();
    assert_eq!(failed, 1);
    let versions: Vec<String> = sqlx::query_scalar(
        "SELECT v.version FROM lineage_dataset_versions v JOIN lineage_datasets d USING (dataset_id) \
         WHERE d.name = 'credit-applications-2026q3' ORDER BY v.version",
    )
    .fetch_all(&l.app.pool)
    .await
    .unwrap();
    assert_eq!(versions, ["v1", "v2"]);
    // The dataset's panel lists them newest first, each with the run that wrote it.
    let viewer = l.app.signed_in("vera", &[Role::Viewer]).await;
    let features = "dataset:s3://northwind-features:credit-applications-2026q3";
    let html = explorer_html(&viewer, &l.app, features).await;
    let listed = html
        .split(r#"<ul class="versions">"#)
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .unwrap_or_default();
    let (v2, v1) = (
        listed.find("<code>v2</code>"),
        listed.find("<code>v1</code>"),
    );
    assert!(
        matches!((v2, v1), (Some(a), Some(b)) if a < b),
        "v2 then v1 in {listed}"
    );
    assert_eq!(listed.matches(" · run ").count(), 2, "{listed}");
    // Raw applications reach the training runs, the evaluation and the scores.
    let nodes = l
        .nodes(
            "dataset:postgres://loans-db.internal:5432:public.applications",
            "&upstreamDepth=0",
        )
        .await;
    for expected in [
        "job:airflow://northwind:training.train_credit_model",
        "dataset:snowflake://northwind.eu-central-1:ml.credit_evaluation",
        "dataset:snowflake://northwind.eu-central-1:ml.credit_scores",
    ] {
        assert!(
            nodes.iter().any(|n| n == expected),
            "{expected} in {nodes:?}"
        );
    }
    assert!(
        nodes.iter().filter(|n| n.starts_with("run:")).count() >= 24,
        "every credit training run is downstream"
    );
    // The demo's ingest tokens are revoked.
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL AND name LIKE 'demo-%'",
    )
    .fetch_one(&l.app.pool)
    .await
    .unwrap();
    assert_eq!(live, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_page_draws_the_graph_and_the_panel_without_js() {
    let l = Lineage::new().await;
    // An empty store says what will be drawn and how to send lineage; one event ends that.
    let first = l.app.signed_in("val", &[Role::Viewer]).await;
    let empty = |first: reqwest::Client| {
        let url = l.app.url("/lineage");
        async move {
            let html = first.get(url).send().await.unwrap();
            html.text().await.unwrap().contains("No lineage yet")
        }
    };
    assert!(empty(first.clone()).await);
    for e in pipeline() {
        l.ok(&e).await;
    }
    // A second consumer of clean.loans: a branch that is not on build_features' paths.
    l.ok(&run_event(
        "COMPLETE",
        "2026-11-19T04:00:00Z",
        "0176a8c2-fe01-7439-87e6-56a1a1b40500",
        "audit_loans",
        vec![ds("warehouse", "clean.loans")],
        vec![ds("warehouse", "audit.report")],
    ))
    .await;
    assert!(!empty(first).await);
    let viewer = l.app.signed_in("vic", &[Role::Viewer]).await;
    let page = |path: String| {
        let viewer = viewer.clone();
        let url = l.app.url(&path);
        async move {
            let r = viewer.get(url).send().await.unwrap();
            let status = r.status();
            let html = r.text().await.unwrap();
            (status, html.replace("<!-- -->", "").replace("<!>", ""))
        }
    };
    let (_, html) = page("/lineage?q=loans".into()).await;
    assert!(
        html.contains("node=dataset%3Awarehouse%3Aclean.loans"),
        "search hits link to graphs"
    );

    let clean = urlencode("dataset:warehouse:clean.loans");
    let (status, html) = page(format!("/lineage?node={clean}&up=1&down=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<svg") && html.contains(r#"data-node="job:etl:build_features""#),
        "graph drawn on the server"
    );
    assert!(html.contains(r#"data-node="job:etl:clean_loans""#));
    assert!(
        !html.contains(r#"data-node="dataset:warehouse:features.loans""#),
        "depth 1 stops at the jobs"
    );
    assert!(
        html.contains("+1 downstream") && html.contains("+1 upstream"),
        "hidden neighbours counted"
    );
    // The panel of the centre dataset: schema fields, with links to their column lineage.
    assert!(
        html.contains("loan_id") && html.contains("field=zip"),
        "schema in the panel"
    );

    // Column lineage of features.loans.zip_bucket goes back to clean.loans.zip.
    let features = urlencode("dataset:warehouse:features.loans");
    let (_, html) = page(format!("/lineage?node={features}&field=zip_bucket")).await;
    assert!(
        html.contains("Column lineage of") && html.contains("dataset:warehouse:clean.loans"),
        "column lineage listed"
    );

    // The job panel lists its runs, the failed one with its error.
    let job = urlencode("job:etl:build_features");
    let (_, html) = page(format!("/lineage?node={job}")).await;
    assert!(html.contains("FAIL") && html.contains("column zip missing"));

    // Blast radius of the raw table: every job and dataset downstream, highlighted.
    let raw = urlencode(&format!("dataset:{PG}:raw.loans"));
    let (_, html) = page(format!("/lineage?node={raw}&blast=true&down=4")).await;
    assert!(
        html.contains("Blast radius: 6 downstream"),
        "three jobs and three datasets"
    );
    assert!(
        html.contains("node node-dataset lit"),
        "highlighted on the graph"
    );

    // Focus keeps only paths through the selected node.
    let (_, html) = page(format!("/lineage?node={clean}&selected={job}&focus=true")).await;
    assert!(html.contains(r#"data-node="dataset:warehouse:features.loans""#));
    assert!(
        html.contains(r#"data-node="job:etl:clean_loans""#),
        "upstream of build_features"
    );
    assert!(
        !html.contains(r#"data-node="job:etl:audit_loans""#),
        "a sibling branch is left out"
    );

    let (status, _) = page("/lineage?node=dataset:nowhere:nothing".into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Stores `events` as one batch in one transaction, with one statement per table as
/// PostgreSQL's lineage writer stores whatever many pipelines have sent at once (on SQLite too,
/// whose writer stores events one by one); answers which were new.
async fn ingest_as_one_batch(app: &TestApp, events: &[Value]) -> Vec<bool> {
    use app::domain::lineage::{parse_event, LineageEvent};
    use app::store::{backend, direct::OnPool, lineage::ingest_batched as ingest, Backend};
    let parsed: Vec<(LineageEvent, String)> = events
        .iter()
        .map(|v| (parse_event(v).unwrap(), v.to_string()))
        .collect();
    let (pool, runtime) = (app.pool.clone(), tokio::runtime::Handle::current());
    tokio::task::spawn_blocking(move || {
        let events: Vec<(&LineageEvent, &str)> =
            parsed.iter().map(|(e, b)| (e, b.as_str())).collect();
        let now = "2026-12-07T00:00:00.000000Z";
        let done = match backend(&pool) {
            Backend::Sqlite => {
                let mut db = app::store::open_own_connection(&pool).unwrap();
                let tx = db.transaction().unwrap();
                let done = ingest(&mut &*tx, &events, now).unwrap();
                tx.commit().unwrap();
                done
            }
            Backend::Postgres => {
                let _context = runtime.enter();
                let mut tx = runtime.block_on(pool.begin()).unwrap();
                let done = ingest(
                    &mut OnPool {
                        conn: &mut tx,
                        runtime: &runtime,
                    },
                    &events,
                    now,
                )
                .unwrap();
                runtime.block_on(tx.commit()).unwrap();
                done
            }
        };
        done.into_iter().map(|d| d.stored).collect()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_batch_of_many_events_leaves_the_graph_that_one_at_a_time_does() {
    let schema =
        |field: &str| json!({ "schema": { "fields": [{ "name": field, "type": "INT" }] } });
    let mut events = pipeline();
    // Static events naming the same rows: a newer and an older schema for clean.loans (the
    // newer must win whichever comes first), a versioned dataset, and one job declared twice.
    for (time, field) in [
        ("2026-11-21T00:00:00Z", "newest"),
        ("2026-11-18T00:00:00Z", "oldest"),
    ] {
        let mut d = ds("warehouse", "clean.loans");
        d["facets"] = schema(field);
        events.push(json!({ "eventTime": time, "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/DatasetEvent",
            "dataset": d }));
    }
    let mut versioned = ds("s3://raw", "snapshots");
    versioned["facets"] = json!({ "version": { "datasetVersion": "v7" } });
    events.push(
        json!({ "eventTime": "2026-11-22T00:00:00Z", "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/DatasetEvent",
        "dataset": versioned }),
    );
    for time in ["2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z"] {
        events.push(json!({ "eventTime": time, "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/JobEvent",
            "job": { "namespace": "etl", "name": "report", "facets": { "documentation": { "description": time } } },
            "inputs": [ds("warehouse", "features.loans")], "outputs": [ds("s3://reports", "weekly")] }));
    }
    let (a, b) = (Lineage::new().await, Lineage::new().await);
    for e in &events {
        a.ok(e).await;
    }
    // Newest first, one pair swapped, then every event again: one batch.
    let mut batch: Vec<Value> = events.iter().rev().cloned().collect();
    batch.swap(1, 4);
    batch.extend(events.iter().cloned());
    let stored = ingest_as_one_batch(&b.app, &batch).await;
    let n = events.len();
    assert_eq!(
        stored,
        [vec![true; n], vec![false; n]].concat(),
        "repeats in the batch are not new"
    );
    assert_eq!(b.count("lineage_events").await, n as i64);
    assert_eq!(graph_state(&a).await, graph_state(&b).await);
    let fields: String =
        sqlx::query_scalar("SELECT fields FROM lineage_datasets WHERE name = 'clean.loans'")
            .fetch_one(&b.app.pool)
            .await
            .unwrap();
    assert!(
        fields.contains("newest"),
        "the latest schema wins: {fields}"
    );
    let static_time: Option<String> = sqlx::query_scalar(
        "SELECT v.static_time FROM lineage_job_versions v JOIN lineage_jobs j USING (job_id) WHERE j.name = 'report'",
    )
    .fetch_one(&b.app.pool)
    .await
    .unwrap();
    assert_eq!(static_time.as_deref(), Some("2026-11-24T00:00:00.000000Z"));
    // A second batch moving a run to another job settles both jobs.
    let moved = run_event(
        "COMPLETE",
        "2026-11-20T03:00:00Z",
        R3,
        "clean_loans",
        vec![ds(PG, "raw.loans")],
        vec![],
    );
    assert_eq!(
        ingest_as_one_batch(&b.app, std::slice::from_ref(&moved)).await,
        [true]
    );
    a.ok(&moved).await;
    assert_eq!(graph_state(&a).await, graph_state(&b).await);
}
