//! Event checks, run folding and node ids.

use super::*;
use serde_json::json;
use serde_json::Value;
use std::collections::BTreeSet;

const RUN: &str = "d46e465b-d358-4d32-83d4-df660ff614dd";

fn run_event(event_type: &str, time: &str) -> Value {
    json!({
        "eventType": event_type,
        "eventTime": time,
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
        "run": { "runId": RUN, "facets": {} },
        "job": { "namespace": "etl", "name": "clean_loans" },
        "inputs": [{ "namespace": "postgres://db:5432", "name": "raw.loans",
            "facets": { "schema": { "fields": [{ "name": "id", "type": "INT" },
                { "name": "addr", "type": "STRUCT", "fields": [{ "name": "zip", "type": "STRING" }] }] } } }],
        "outputs": [],
    })
}

fn pointer_of(v: Value) -> String {
    parse_event(&v).unwrap_err().field
}

#[test]
fn a_run_event_is_normalised() {
    let e = parse_event(&run_event("START", "2026-11-27T10:00:00.5+01:00")).unwrap();
    assert_eq!(e.kind, EventKind::Run(RunEventType::Start));
    assert_eq!(e.event_time, "2026-11-27T09:00:00.500000Z");
    assert_eq!(e.run.as_ref().unwrap().run_id, RUN);
    let fields = e.inputs[0].fields.clone().unwrap();
    assert_eq!(
        fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["id", "addr", "addr.zip"]
    );
    assert_eq!(
        e.dedup_key(),
        format!("run:{RUN}:START:2026-11-27T09:00:00.500000Z")
    );
}

#[test]
fn invalid_events_name_the_field() {
    let mut v = run_event("START", "2026-11-27T10:00:00Z");
    v["run"]["runId"] = json!("not-a-uuid");
    assert_eq!(pointer_of(v), "/run/runId");
    let mut v = run_event("START", "2026-11-27T10:00:00Z");
    v["run"].as_object_mut().unwrap().remove("runId");
    assert_eq!(pointer_of(v), "/run/runId");
    assert_eq!(
        pointer_of(run_event("BEGIN", "2026-11-27T10:00:00Z")),
        "/eventType"
    );
    assert_eq!(pointer_of(run_event("START", "yesterday")), "/eventTime");
    assert_eq!(
        pointer_of(run_event("START", "2026-11-27T10:00:00")),
        "/eventTime"
    );
    let mut v = run_event("START", "2026-11-27T10:00:00Z");
    v["inputs"] = json!({ "namespace": "x" });
    assert_eq!(pointer_of(v), "/inputs");
    let mut v = run_event("START", "2026-11-27T10:00:00Z");
    v["inputs"][0]["name"] = json!(7);
    assert_eq!(pointer_of(v), "/inputs/0/name");
    let mut v = run_event("START", "2026-11-27T10:00:00Z");
    v["inputs"][0]["facets"]["schema"]["fields"][1]["fields"][0]["name"] = json!(null);
    assert_eq!(
        pointer_of(v),
        "/inputs/0/facets/schema/fields/1/fields/0/name"
    );
    let mut v = run_event("START", "2026-11-27T10:00:00Z");
    v["job"].as_object_mut().unwrap().remove("namespace");
    assert_eq!(pointer_of(v), "/job/namespace");
    let mut v = run_event("START", "2026-11-27T10:00:00Z");
    v["run"]["facets"]["mlflow"] = json!({ "runId": "abc" });
    assert_eq!(pointer_of(v), "/run/facets/mlflow/runId");
    assert_eq!(
        pointer_of(json!({ "eventTime": "2026-11-27T10:00:00Z", "producer": "p" })),
        "/run"
    );
    assert_eq!(pointer_of(json!([1])), "");
}

#[test]
fn dataset_and_job_events_are_recognised() {
    let d = parse_event(
        &json!({ "eventTime": "2026-11-27T10:00:00Z", "producer": "p",
        "dataset": { "namespace": "s3://bucket", "name": "features/v1",
            "facets": { "version": { "datasetVersion": "v1" } } } }),
    )
    .unwrap();
    assert_eq!(d.kind, EventKind::Dataset);
    assert_eq!(d.dataset.unwrap().version.as_deref(), Some("v1"));
    let j = parse_event(&json!({ "eventTime": "2026-11-27T10:00:00Z", "producer": "p",
        "job": { "namespace": "etl", "name": "score" }, "inputs": [{ "namespace": "a", "name": "b" }] }))
    .unwrap();
    assert_eq!(j.kind, EventKind::Job);
    assert_eq!(j.inputs.len(), 1);
}

#[test]
fn column_lineage_is_read() {
    let mut v = run_event("COMPLETE", "2026-11-27T10:00:00Z");
    v["outputs"] = json!([{ "namespace": "warehouse", "name": "features.loans", "facets": { "columnLineage": { "fields": {
        "zip": { "inputFields": [{ "namespace": "postgres://db:5432", "name": "raw.loans", "field": "addr.zip" }] } } } } }]);
    let e = parse_event(&v).unwrap();
    assert_eq!(
        e.outputs[0].column_lineage,
        vec![ColumnSource {
            field: "zip".into(),
            namespace: "postgres://db:5432".into(),
            name: "raw.loans".into(),
            input_field: "addr.zip".into()
        }]
    );
}

#[test]
fn folding_ignores_order_and_repeats() {
    let start = parse_event(&run_event("START", "2026-11-27T10:00:00Z")).unwrap();
    let mut done = run_event("FAIL", "2026-11-27T10:05:00Z");
    done["run"]["facets"]["errorMessage"] =
        json!({ "message": "disk full", "programmingLanguage": "python" });
    done["outputs"] = json!([{ "namespace": "warehouse", "name": "features.loans" }]);
    let done = parse_event(&done).unwrap();
    let running = parse_event(&run_event("RUNNING", "2026-11-27T10:02:00Z")).unwrap();
    let a = fold_run(&[start.clone(), running.clone(), done.clone()]).unwrap();
    let b = fold_run(&[done.clone(), start.clone(), done.clone(), running]).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.state, RunEventType::Fail);
    assert_eq!(a.started_at, "2026-11-27T10:00:00.000000Z");
    assert_eq!(a.ended_at.as_deref(), Some("2026-11-27T10:05:00.000000Z"));
    assert_eq!(a.error_message.as_deref(), Some("disk full"));
    assert_eq!(a.outputs.len(), 1);
    assert_eq!(a.inputs.len(), 1);
    // A late RUNNING after the end does not reopen the run.
    let late = parse_event(&run_event("RUNNING", "2026-11-27T10:09:00Z")).unwrap();
    assert_eq!(
        fold_run(&[start, done, late]).unwrap().state,
        RunEventType::Fail
    );
}

#[test]
fn job_versions_depend_on_the_sets_only() {
    let a: BTreeSet<_> = [("n".to_string(), "a".to_string()), ("n".into(), "b".into())].into();
    let b: BTreeSet<_> = [("n".to_string(), "b".to_string()), ("n".into(), "a".into())].into();
    let none = BTreeSet::new();
    assert_eq!(job_version(&a, &none, None), job_version(&b, &none, None));
    assert_ne!(job_version(&a, &none, None), job_version(&none, &a, None));
    assert_ne!(
        job_version(&a, &none, None),
        job_version(&a, &none, Some("git@x"))
    );
}

#[test]
fn node_ids_with_uri_namespaces_round_trip() {
    let id = "dataset:postgres://db.internal:5432:analytics.ml.scores";
    let c = NodeRef::parse_candidates(id).unwrap();
    assert_eq!(
        c[0],
        NodeRef::Dataset {
            namespace: "postgres://db.internal:5432".into(),
            name: "analytics.ml.scores".into()
        }
    );
    assert_eq!(c[0].to_string(), id);
    assert!(
        c.iter().all(|n| n.to_string() == id),
        "every reading prints back"
    );
    assert_eq!(
        NodeRef::parse_candidates("job:etl:clean").unwrap(),
        vec![NodeRef::Job {
            namespace: "etl".into(),
            name: "clean".into()
        }]
    );
    assert_eq!(
        NodeRef::parse_candidates("run:ABC").unwrap(),
        vec![NodeRef::Run("abc".into())]
    );
    assert!(NodeRef::parse_candidates("dataset:nons").is_err());
    assert!(NodeRef::parse_candidates("table:a:b").is_err());
    assert!(NodeRef::parse_candidates("nothing").is_err());
}

fn ds(name: &str) -> NodeRef {
    NodeRef::Dataset {
        namespace: "s3://lake".into(),
        name: name.into(),
    }
}

/// raw → clean → features → model, and raw → audit_copy: a chain with a side branch.
fn chain() -> Neighbours {
    let (raw, clean, feat, model, copy) = (
        ds("raw"),
        ds("clean"),
        ds("features"),
        ds("model"),
        ds("audit_copy"),
    );
    let mut g = Neighbours::new();
    g.insert(raw.clone(), (vec![], vec![clean.clone(), copy.clone()]));
    g.insert(clean.clone(), (vec![raw.clone()], vec![feat.clone()]));
    g.insert(feat.clone(), (vec![clean.clone()], vec![model.clone()]));
    g.insert(model.clone(), (vec![feat.clone()], vec![]));
    g.insert(copy, (vec![raw], vec![]));
    g
}

#[test]
fn focus_keeps_the_paths_through_a_node_and_drops_side_branches() {
    let g = chain();
    let shown: BTreeSet<NodeRef> = g.keys().cloned().collect();
    let kept = paths_through(&g, &shown, &ds("clean"));
    let names: BTreeSet<String> = kept.iter().map(ToString::to_string).collect();
    assert_eq!(kept.len(), 4, "{names:?}");
    assert!(
        !kept.contains(&ds("audit_copy")),
        "a sibling branch is not on a path"
    );
    // A node hidden by the depth breaks the path there.
    let mut shallow = shown.clone();
    shallow.remove(&ds("features"));
    let kept = paths_through(&g, &shallow, &ds("clean"));
    assert!(!kept.contains(&ds("model")));
    assert!(kept.contains(&ds("raw")));
}

#[test]
fn edges_among_index_only_the_nodes_given() {
    let g = chain();
    let keys = vec![ds("raw"), ds("clean"), ds("audit_copy")];
    let mut edges = edges_among(&g, &keys);
    edges.sort_unstable();
    assert_eq!(edges, [(0, 1), (0, 2)]);
}

#[test]
fn nodes_are_labelled_from_their_data() {
    let run = NodeRef::Run("0123456789abcdef0123456789abcdef".into());
    let l = node_label(&run, &json!({ "name": "tuned-xgb", "status": "FINISHED" }));
    assert_eq!((l.kind, l.label.as_str()), ("run", "tuned-xgb"));
    assert_eq!(l.state.as_deref(), Some("FINISHED"));
    let unnamed = node_label(&run, &json!({}));
    assert_eq!(unnamed.label, "0123456789abcdef0123456789abcdef");
    let job = NodeRef::Job {
        namespace: "etl".into(),
        name: "train".into(),
    };
    let l = node_label(&job, &json!({ "latestRun": { "state": "FAIL" } }));
    assert_eq!(
        (l.sublabel.as_str(), l.state.as_deref()),
        ("etl", Some("FAIL"))
    );
    let mv = NodeRef::ModelVersion {
        name: "credit".into(),
        version: "4".into(),
    };
    assert_eq!(node_label(&mv, &Value::Null).label, "credit v4");
}

#[test]
fn edge_paths_curve_between_layers_and_run_straight_along_one() {
    let d = edge_path(&[(0.0, 0.0), (100.0, 40.0), (200.0, 40.0)]);
    assert_eq!(d, "M0.0,0.0 C50.0,0.0 50.0,40.0 100.0,40.0 L200.0,40.0");
    assert_eq!(edge_path(&[(1.0, 1.0)]), "");
}

/// A batch of `events` (each stored under its own dedup key), added in the given order.
fn batch_of(events: &[&LineageEvent]) -> Batch {
    let mut b = Batch::default();
    for e in events {
        b.add(e, &e.dedup_key());
    }
    b
}

#[test]
fn a_batch_keeps_the_latest_part_of_each_row_whatever_its_order() {
    let mut start = run_event("START", "2026-11-27T10:00:00Z");
    start["inputs"][0]["facets"]["schema"]["fields"] = json!([{ "name": "old", "type": "INT" }]);
    let start = parse_event(&start).unwrap();
    let complete = parse_event(&run_event("COMPLETE", "2026-11-27T10:05:00Z")).unwrap();
    let forward = batch_of(&[&start, &complete]);
    let backward = batch_of(&[&complete, &start]);
    assert_eq!(forward, backward);
    let raw = (
        String::from("postgres://db:5432"),
        String::from("raw.loans"),
    );
    let fields = &forward.datasets[&raw].fields.as_ref().unwrap();
    assert!(fields.value.contains("addr.zip"), "{}", fields.value);
    assert_eq!(fields.from, source_key(&complete, &complete.dedup_key()));
    assert_eq!(
        forward.namespaces,
        BTreeSet::from(["etl".to_owned(), "postgres://db:5432".to_owned()])
    );
    assert_eq!(forward.runs.len(), 1, "a run is re-folded once per batch");
    assert!(forward.declared.is_empty() && forward.versions.is_empty());
}

#[test]
fn a_batch_declares_a_job_version_once_with_its_latest_time() {
    let job = |time: &str| {
        parse_event(&json!({ "eventTime": time, "producer": "p",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/JobEvent",
            "job": { "namespace": "etl", "name": "report" },
            "inputs": [{ "namespace": "s3://b", "name": "in" }], "outputs": [] }))
        .unwrap()
    };
    let (early, late) = (job("2026-11-01T00:00:00Z"), job("2026-11-02T00:00:00Z"));
    let b = batch_of(&[&late, &early]);
    assert_eq!(b.declared.len(), 1);
    let declared = b.declared.values().next().unwrap();
    assert_eq!(declared.static_time, "2026-11-02T00:00:00.000000Z");
    assert_eq!(declared.inputs.len(), 1);
    assert_eq!(b.jobs.len(), 1);
    assert!(b.runs.is_empty());
}
