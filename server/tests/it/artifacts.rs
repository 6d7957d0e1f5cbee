//! The artifact proxy and logged models through the real router: storage, listing, paths,
//! authorisation, audit entries, digests, immutability and `verify-artifacts`.

use crate::common::{spawn_app, spawn_app_with, TestApp};
use app::domain::artifacts::{model_digest, FileEntry};
use app::domain::roles::Role;
use app::service::state::Config;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

const A: &str = "/api/2.0/mlflow-artifacts/artifacts";

struct Ws {
    app: TestApp,
    client: reqwest::Client,
    token: String,
}

async fn token(app: &TestApp, user: &str, roles: &[Role]) -> String {
    app.user(user, roles).await;
    app::service::accounts::create_token(
        &app.pool,
        "test",
        user,
        "t",
        app::service::accounts::Issue::owner(),
    )
    .await
    .unwrap()
    .token
}

impl Ws {
    async fn new() -> Ws {
        Ws::with(spawn_app().await).await
    }

    async fn with(app: TestApp) -> Ws {
        let token = token(&app, "sci", &[Role::Scientist]).await;
        let client = app.client();
        Ws { app, client, token }
    }

    async fn mlflow(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(self.app.url(&format!("/api/2.0/mlflow/{path}")))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, path: &str, body: Value) -> Value {
        let (s, v) = self.mlflow(path, body).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        v
    }

    async fn run(&self) -> (String, String) {
        let exp = self
            .ok(
                "experiments/create",
                json!({ "name": format!("e{}", rand_suffix()) }),
            )
            .await["experiment_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let run = self
            .ok("runs/create", json!({ "experiment_id": exp }))
            .await["run"]["info"]["run_id"]
            .as_str()
            .unwrap()
            .to_owned();
        (exp, run)
    }

    async fn model(&self, exp: &str, run: Option<&str>) -> String {
        let v = self
            .ok(
                "logged-models",
                json!({ "experiment_id": exp, "name": "model", "source_run_id": run }),
            )
            .await;
        assert_eq!(v["model"]["info"]["status"], "LOGGED_MODEL_PENDING");
        v["model"]["info"]["model_id"].as_str().unwrap().to_owned()
    }

    async fn put(&self, path: &str, bytes: &[u8]) -> (StatusCode, Value) {
        let r = self
            .client
            .put(self.app.url(&format!("{A}/{path}")))
            .bearer_auth(&self.token)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let r = self
            .client
            .get(self.app.url(&format!("{A}/{path}")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let s = r.status();
        let h = r.headers().clone();
        (s, h, r.bytes().await.unwrap().to_vec())
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .delete(self.app.url(&format!("{A}/{path}")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn list(&self, path: &str) -> Value {
        let r = self
            .client
            .get(self.app.url(A))
            .bearer_auth(&self.token)
            .query(&[("path", path)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    async fn finalize(&self, model: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .patch(
                self.app
                    .url(&format!("/api/2.0/mlflow/logged-models/{model}")),
            )
            .bearer_auth(&self.token)
            .json(&json!({ "model_id": model, "status": "LOGGED_MODEL_READY" }))
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[tokio::test]
async fn files_go_up_come_back_and_are_listed_and_audited() {
    let w = Ws::new().await;
    let (exp, run) = w.run().await;
    let root = format!("{exp}/{run}/artifacts");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(
        w.put(&format!("{root}/notes.txt"), b"hello").await.0,
        StatusCode::OK
    );
    assert_eq!(
        w.put(&format!("{root}/folder/sub/data.bin"), &big).await.0,
        StatusCode::OK
    );
    assert_eq!(
        w.put(&format!("{root}/folder/a.csv"), b"a,b\n1,2\n")
            .await
            .0,
        StatusCode::OK
    );

    let top = w.list(&root).await;
    assert_eq!(
        top["files"],
        json!([
            { "path": "folder", "is_dir": true },
            { "path": "notes.txt", "is_dir": false, "file_size": 5 },
        ])
    );
    let folder = w.list(&format!("{root}/folder")).await;
    assert_eq!(
        folder["files"],
        json!([
            { "path": "sub", "is_dir": true },
            { "path": "a.csv", "is_dir": false, "file_size": 8 },
        ])
    );
    // A file and an unknown folder list as nothing, as in MLflow.
    assert_eq!(w.list(&format!("{root}/notes.txt")).await, json!({}));
    assert_eq!(w.list(&format!("{root}/nope")).await, json!({}));

    let (s, h, body) = w.get(&format!("{root}/folder/sub/data.bin")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, big, "byte for byte");
    assert_eq!(h["content-type"], "application/octet-stream");
    assert!(
        h.get("content-encoding").is_none(),
        "binaries are not compressed"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let (s, _, body) = w.get(&format!("{root}/missing.txt")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("RESOURCE_DOES_NOT_EXIST"));

    // One audit entry per file, with its size and SHA-256.
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT actor, object_id, details FROM audit_log WHERE action = 'artifact.upload' ORDER BY seq",
    )
    .fetch_all(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1].0, "sci/token:t");
    assert_eq!(rows[1].1, format!("{root}/folder/sub/data.bin"));
    let d: Value = serde_json::from_str(&rows[1].2).unwrap();
    assert_eq!(d["size"], 3_000_000);
    assert_eq!(d["sha256"], sha(&big));

    // Overwriting records the hash it replaced; deleting a folder removes each file, audited.
    assert_eq!(
        w.put(&format!("{root}/notes.txt"), b"hello again").await.0,
        StatusCode::OK
    );
    let replaced: String = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'artifact.upload' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert!(replaced.contains(&sha(b"hello")), "{replaced}");
    assert_eq!(w.delete(&format!("{root}/folder")).await.0, StatusCode::OK);
    let deleted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'artifact.delete'")
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(
        w.list(&root).await["files"],
        json!([{ "path": "notes.txt", "is_dir": false, "file_size": 11 }])
    );
    let on_disk = w.app.artifacts().list_under(&root).await.unwrap();
    assert_eq!(on_disk, vec![("notes.txt".to_string(), 11)]);
    // The audit chain still verifies with the new entries in it.
    assert!(app::store::audit::verify(&w.app.pool).await.unwrap().ok);
}

#[tokio::test]
async fn paths_may_not_leave_their_run_or_model() {
    let w = Ws::new().await;
    let (exp, run) = w.run().await;
    let root = format!("{exp}/{run}/artifacts");
    for bad in [
        format!("{root}/..%2F..%2Fescape.txt"),
        format!("{root}/a%2F..%2F..%2Fb"),
        format!("{root}/a%5Cb"),
        format!("{root}/%2Fetc%2Fpasswd"),
        format!("{exp}/{run}/elsewhere/x"),
        format!("{exp}/not-a-run/artifacts/x"),
        "etc/passwd".to_string(),
        root.clone(),
    ] {
        let (s, v) = w.put(&bad, b"x").await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_eq!(v["error_code"], "INVALID_PARAMETER_VALUE", "{bad}");
    }
    // A run that does not exist, or exists in another experiment.
    let other = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        w.put(&format!("{exp}/{other}/artifacts/x"), b"x").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.put(&format!("0/{run}/artifacts/x"), b"x").await.0,
        StatusCode::NOT_FOUND
    );
    // Nothing was stored anywhere.
    assert!(w.app.artifacts().list_under("").await.unwrap().is_empty());
    let uploads: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'artifact.%'")
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(uploads, 0);
}

#[tokio::test]
async fn reads_need_a_viewer_and_writes_a_scientist() {
    let w = Ws::new().await;
    let (exp, run) = w.run().await;
    let file = format!("{exp}/{run}/artifacts/f.txt");
    assert_eq!(w.put(&file, b"data").await.0, StatusCode::OK);
    let viewer = token(&w.app, "vic", &[Role::Viewer]).await;
    let c = &w.client;
    let r = c
        .get(w.app.url(&format!("{A}/{file}")))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .put(w.app.url(&format!("{A}/{file}")))
        .bearer_auth(&viewer)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .delete(w.app.url(&format!("{A}/{file}")))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .get(w.app.url(&format!("{A}/{file}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .put(w.app.url(&format!("{A}/{file}")))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(w.get(&file).await.2, b"data");
}

#[tokio::test]
async fn an_upload_that_breaks_off_leaves_no_listed_file() {
    let w = Ws::new().await;
    let (exp, run) = w.run().await;
    let root = format!("{exp}/{run}/artifacts");
    let addr = w.app.base.trim_start_matches("http://").to_string();
    // Promise 20 MB, send 9 MB (past the single-request threshold, so parts were written),
    // then hang up.
    // The server runs on this test's runtime: the socket must be async too.
    use tokio::io::AsyncWriteExt;
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PUT {A}/{root}/big.bin HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Length: 20000000\r\n\r\n",
        w.token
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![1u8; 1 << 20];
    for _ in 0..9 {
        sock.write_all(&chunk).await.unwrap();
    }
    sock.flush().await.unwrap();
    drop(sock);
    // Give the server a moment to notice and clean up.
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if w.app
            .artifacts()
            .list_under(&root)
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
    }
    assert_eq!(w.list(&root).await, json!({}));
    assert!(w
        .app
        .artifacts()
        .list_under(&root)
        .await
        .unwrap()
        .is_empty());
    let staged: Vec<_> = walk(&w.app.artifacts_dir);
    assert!(staged.is_empty(), "left behind: {staged:?}");
    let uploads: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'artifact.upload'")
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(uploads, 0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn an_artifact_over_the_limit_is_refused_with_413() {
    let app = spawn_app_with(
        Config {
            max_artifact_bytes: 1000,
            ..Config::default()
        },
        Default::default(),
    )
    .await;
    let w = Ws::with(app).await;
    let (exp, run) = w.run().await;
    let (s, v) = w
        .put(&format!("{exp}/{run}/artifacts/big"), &[0u8; 1001])
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(
        w.put(&format!("{exp}/{run}/artifacts/ok"), &[0u8; 1000])
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_finalized_model_is_frozen_with_a_digest_anyone_can_recompute() {
    let w = Ws::new().await;
    let (exp, run) = w.run().await;
    let model = w.model(&exp, Some(&run)).await;
    let root = format!("{exp}/models/{model}/artifacts");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("MLmodel", b"flavors:\n  python_function: {}\n".to_vec()),
        ("model.pkl", vec![42u8; 70_000]),
        ("sub/requirements.txt", b"scikit-learn==1.9.1\n".to_vec()),
    ];
    for (p, b) in &files {
        assert_eq!(w.put(&format!("{root}/{p}"), b).await.0, StatusCode::OK);
    }
    let expected = model_digest(
        &files
            .iter()
            .map(|(p, b)| FileEntry {
                path: p.to_string(),
                size: b.len() as u64,
                sha256: sha(b),
            })
            .collect::<Vec<_>>(),
    );
    let (s, v) = w.finalize(&model).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["model"]["info"]["status"], "LOGGED_MODEL_READY");
    assert_eq!(v["model"]["info"]["digest"], expected);
    assert_eq!(v["model"]["info"]["manifest"].as_array().unwrap().len(), 3);
    // Finalizing again is harmless; un-finalizing is not possible.
    assert_eq!(w.finalize(&model).await.0, StatusCode::OK);
    let r = w
        .client
        .patch(w.app.url(&format!("/api/2.0/mlflow/logged-models/{model}")))
        .bearer_auth(&w.token)
        .json(&json!({ "status": "LOGGED_MODEL_UPLOAD_FAILED" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Frozen: no overwrite, no new file, no delete.
    for (s, v) in [
        w.put(&format!("{root}/model.pkl"), b"swapped").await,
        w.put(&format!("{root}/extra.txt"), b"new").await,
        w.delete(&format!("{root}/model.pkl")).await,
        w.delete(&root).await,
    ] {
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        assert_eq!(v["error_code"], "INVALID_STATE");
        assert!(v["message"].as_str().unwrap().contains("finalized"), "{v}");
    }
    assert_eq!(
        w.get(&format!("{root}/model.pkl")).await.2,
        vec![42u8; 70_000]
    );

    // `server model-digest` over a downloaded copy gives the recorded digest.
    let dl = tempfile::tempdir().unwrap();
    for (p, _) in &files {
        let target = dl.path().join(p);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, w.get(&format!("{root}/{p}")).await.2).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["model-digest", dl.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), expected);
    // One audit entry for the seal, with the digest.
    let sealed: String = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'mlflow.logged_model.finalize' AND object_id = $1",
    )
    .bind(&model)
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert!(sealed.contains(&expected), "{sealed}");
}

#[tokio::test]
async fn a_run_folder_a_version_points_at_is_frozen() {
    let w = Ws::new().await;
    let (exp, run) = w.run().await;
    let root = format!("{exp}/{run}/artifacts");
    assert_eq!(
        w.put(&format!("{root}/model/model.pkl"), b"v1").await.0,
        StatusCode::OK
    );
    assert_eq!(
        w.put(&format!("{root}/notes.txt"), b"n").await.0,
        StatusCode::OK
    );
    w.ok("registered-models/create", json!({ "name": "credit" }))
        .await;
    let v = w
        .ok(
            "model-versions/create",
            json!({ "name": "credit", "source": format!("runs:/{run}/model"), "run_id": run }),
        )
        .await;
    assert_eq!(v["model_version"]["version"], "1");
    let (s, v) = w.put(&format!("{root}/model/model.pkl"), b"v2").await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("credit version 1"),
        "{v}"
    );
    assert_eq!(
        w.delete(&root).await.0,
        StatusCode::CONFLICT,
        "a parent folder neither"
    );
    // Elsewhere in the run, files still change.
    assert_eq!(
        w.put(&format!("{root}/notes.txt"), b"n2").await.0,
        StatusCode::OK
    );
    // get-download-uri names the run folder.
    let r = w
        .client
        .get(w.app.url("/api/2.0/mlflow/model-versions/get-download-uri"))
        .bearer_auth(&w.token)
        .query(&[("name", "credit"), ("version", "1")])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["artifact_uri"],
        format!("mlflow-artifacts:/{exp}/{run}/artifacts/model")
    );
}

#[tokio::test]
async fn verify_artifacts_names_a_tampered_model() {
    let w = Ws::new().await;
    let (exp, run) = w.run().await;
    let model = w.model(&exp, Some(&run)).await;
    let root = format!("{exp}/models/{model}/artifacts");
    assert_eq!(
        w.put(&format!("{root}/model.pkl"), b"the real bytes")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(w.finalize(&model).await.0, StatusCode::OK);
    let verify = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .arg("verify-artifacts")
            .env("DATABASE_URL", &w.app.db_url)
            .env("ARTIFACT_ROOT", &w.app.artifacts_dir)
            .env("GATEHOUSE_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = verify();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 finalized model(s)"));
    // Someone with disk access swaps the bytes behind the model.
    let file = w.app.artifacts_dir.join(&root).join("model.pkl");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&file)
        .unwrap();
    f.write_all(b"tampered bytes").unwrap();
    drop(f);
    let out = verify();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&model) && text.contains("changed: model.pkl"),
        "{text}"
    );
    let mut buf = String::new();
    std::fs::File::open(&file)
        .unwrap()
        .read_to_string(&mut buf)
        .unwrap();
    assert_eq!(buf, "tampered bytes");
}

#[tokio::test]
async fn logged_models_are_searched_tagged_and_linked_to_runs() {
    let w = Ws::new().await;
    let (exp, run) = w.run().await;
    let m1 = w.model(&exp, Some(&run)).await;
    let v = w
        .ok("logged-models", json!({ "experiment_id": exp, "name": "other", "model_type": "xgboost", "params": [{ "key": "depth", "value": "3" }] }))
        .await;
    let m2 = v["model"]["info"]["model_id"].as_str().unwrap().to_owned();
    assert_eq!(
        v["model"]["data"]["params"],
        json!([{ "key": "depth", "value": "3" }])
    );
    // Metrics that carry a model id are the model's too.
    w.ok("runs/log-batch", json!({ "run_id": run, "metrics": [
        { "key": "auc", "value": 0.91, "timestamp": 1, "step": 0, "model_id": m1, "dataset_name": "holdout", "dataset_digest": "abc" },
        { "key": "loss", "value": 0.3, "timestamp": 1, "step": 0 },
    ] }))
    .await;
    w.ok(
        "runs/outputs",
        json!({ "run_id": run, "models": [{ "model_id": m1, "step": 0 }] }),
    )
    .await;
    let r = w
        .client
        .get(w.app.url("/api/2.0/mlflow/runs/get"))
        .bearer_auth(&w.token)
        .query(&[("run_id", run.as_str())])
        .send()
        .await
        .unwrap();
    let got: Value = r.json().await.unwrap();
    assert_eq!(
        got["run"]["outputs"]["model_outputs"],
        json!([{ "model_id": m1, "step": 0 }])
    );

    let wr = &w;
    let search = |filter: &str| {
        let body = json!({ "experiment_ids": [exp], "filter": filter });
        async move { wr.ok("logged-models/search", body).await }
    };
    let ids = |v: &Value| -> Vec<String> {
        v["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["info"]["model_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&search("name = 'model'").await), vec![m1.clone()]);
    assert_eq!(ids(&search("metrics.auc > 0.9").await), vec![m1.clone()]);
    assert_eq!(
        ids(&search("params.depth = '3' AND model_type = 'xgboost'").await),
        vec![m2.clone()]
    );
    assert_eq!(
        ids(&search(&format!("source_run_id = '{run}'")).await),
        vec![m1.clone()]
    );
    assert_eq!(search("").await["models"].as_array().unwrap().len(), 2);
    let (s, v) = w
        .mlflow(
            "logged-models/search",
            json!({ "experiment_ids": [exp], "filter": "bogus = 1" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().contains("bogus"), "{v}");
    // Paging.
    let p1 = w
        .ok(
            "logged-models/search",
            json!({ "experiment_ids": [exp], "max_results": 1 }),
        )
        .await;
    assert_eq!(p1["models"].as_array().unwrap().len(), 1);
    let p2 = w
        .ok("logged-models/search", json!({ "experiment_ids": [exp], "max_results": 1, "page_token": p1["next_page_token"] }))
        .await;
    assert_ne!(ids(&p1), ids(&p2));
    assert!(p2.get("next_page_token").is_none());

    // Tags: set, read back with the model's metrics, delete.
    let r = w
        .client
        .patch(
            w.app
                .url(&format!("/api/2.0/mlflow/logged-models/{m1}/tags")),
        )
        .bearer_auth(&w.token)
        .json(&json!({ "tags": [{ "key": "team", "value": "risk" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = w
        .client
        .get(w.app.url(&format!("/api/2.0/mlflow/logged-models/{m1}")))
        .bearer_auth(&w.token)
        .send()
        .await
        .unwrap();
    let got: Value = r.json().await.unwrap();
    assert_eq!(
        got["model"]["info"]["tags"],
        json!([{ "key": "team", "value": "risk" }])
    );
    let metrics = &got["model"]["data"]["metrics"];
    assert_eq!(metrics.as_array().unwrap().len(), 1, "{metrics}");
    assert_eq!(metrics[0]["key"], "auc");
    assert_eq!(metrics[0]["dataset_name"], "holdout");
    let r = w
        .client
        .delete(
            w.app
                .url(&format!("/api/2.0/mlflow/logged-models/{m1}/tags/team")),
        )
        .bearer_auth(&w.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Unknown models are 404 in MLflow's shape.
    let r = w
        .client
        .get(
            w.app
                .url("/api/2.0/mlflow/logged-models/m-00000000000000000000000000000000"),
        )
        .bearer_auth(&w.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A model version registered from a logged model names it and resolves to its folder.
    w.ok("registered-models/create", json!({ "name": "credit" }))
        .await;
    let v = w
        .ok(
            "model-versions/create",
            json!({ "name": "credit", "source": format!("models:/{m1}"), "model_id": m1 }),
        )
        .await;
    assert_eq!(v["model_version"]["model_id"], m1);
    assert_eq!(
        v["model_version"]["run_id"], run,
        "the run comes from the model"
    );
    // A registered model is kept.
    let r = w
        .client
        .delete(w.app.url(&format!("/api/2.0/mlflow/logged-models/{m1}")))
        .bearer_auth(&w.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (s, _) = w
        .mlflow(
            "model-versions/create",
            json!({ "name": "credit", "source": "models:/m-11111111111111111111111111111111" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn multipart_and_presigned_transfers_answer_as_mlflow_does_when_off() {
    let w = Ws::new().await;
    let r = w
        .client
        .get(w.app.url("/api/3.0/mlflow/server-info"))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["multipart_uploads_enabled"], false);
    let r = w
        .client
        .post(
            w.app
                .url("/api/2.0/mlflow-artifacts/mpu/create/1/x/artifacts/f"),
        )
        .bearer_auth(&w.token)
        .json(&json!({ "path": "f", "num_parts": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_IMPLEMENTED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["message"],
        "Multipart upload is not supported for the current artifact repository"
    );
}

#[tokio::test]
async fn the_demo_versions_are_real_mlflow_models_sealed_in_the_store() {
    let app = spawn_app().await;
    app::service::demo::seed(&app.pool).await.unwrap();
    let router = app.router();
    server::demo::seed_tracking(&router, &app.pool)
        .await
        .unwrap();
    server::demo::seed_registry(&router, &app.pool)
        .await
        .unwrap();
    let versions: Vec<(String, i64, Option<String>)> =
        sqlx::query_as("SELECT name, version, model_id FROM model_versions ORDER BY name, version")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(versions.len(), 6);
    let mut digests = std::collections::HashSet::new();
    for (name, version, model_id) in versions {
        assert!(model_id.is_some(), "{name} v{version} is a logged model");
        let mut conn = app.pool.acquire().await.unwrap();
        let bound = app::store::artifacts::bound_to_version(&mut conn, &name, version)
            .await
            .unwrap()
            .expect("stored here");
        assert!(bound.sealed, "{name} v{version} is finalized");
        assert!(
            digests.insert(bound.digest.clone()),
            "each version has its own bytes"
        );
        let files: Vec<&str> = bound.manifest.iter().map(|f| f.path.as_str()).collect();
        for f in [
            "MLmodel",
            "scorecard.py",
            "artifacts/weights.json",
            "requirements.txt",
            "input_example.json",
        ] {
            assert!(files.contains(&f), "{name} v{version} has {f}: {files:?}");
        }
        // The MLmodel is YAML MLflow can read: flavour, loader, signature.
        let (_, mut stream) = app
            .artifacts()
            .get(&format!("{}/MLmodel", bound.prefix))
            .await
            .unwrap()
            .unwrap();
        let mut text = Vec::new();
        use futures_util::StreamExt;
        while let Some(c) = stream.next().await {
            text.extend_from_slice(&c.unwrap());
        }
        let text = String::from_utf8(text).unwrap();
        let page = describe(&text);
        assert_eq!(
            page.flavors,
            vec![(
                "python_function".to_string(),
                "mlflow.pyfunc.loaders.code_model".to_string()
            )],
            "{name} v{version}: {text}"
        );
        assert_eq!(page.python_version.as_deref(), Some("3.11.7"));
        assert_eq!(page.inputs.len(), 3, "{text}");
        assert_eq!(page.outputs.len(), 1, "{text}");
        assert!(
            text.contains(
                "\n    artifacts:\n      weights:\n        path: artifacts/weights.json\n"
            ),
            "{text}"
        );
        let v = app::service::artifact_checks::verify_version(
            &app.pool,
            &app.artifacts(),
            &name,
            version,
        )
        .await
        .unwrap()
        .unwrap();
        assert!(v.ok, "{}", v.detail);
    }
}

/// What the version page reads from an MLmodel text.
fn describe(text: &str) -> app::dto::artifacts::ModelVersionPage {
    let mut page = app::dto::artifacts::ModelVersionPage {
        version: app::dto::registry::ModelVersion {
            name: String::new(),
            version: 0,
            source: String::new(),
            run_id: None,
            model_id: None,
            run_link: String::new(),
            description: String::new(),
            user_id: String::new(),
            creation_time: 0,
            last_updated_time: 0,
            tags: vec![],
            aliases: vec![],
        },
        stored: None,
        prefix: None,
        digest: None,
        sealed: false,
        manifest: vec![],
        verified: None,
        flavors: vec![],
        python_version: None,
        inputs: vec![],
        outputs: vec![],
        input_example: None,
        requirements: vec![],
        aliases: vec![],
    };
    app::service::mlmodel::describe(text, &mut page);
    page
}
