//! Artifacts on S3: the same proxy, digests and immutability with `s3://bucket/prefix` as the
//! artifact root, against a real S3-protocol server the test starts itself (moto's
//! `moto_server`, installed from PyPI into `.venv-s3` by `make setup-test`; another binary can
//! be named with GATEHOUSE_S3_SERVER).

use crate::common::spawn_app_on_store;
use app::domain::artifacts::{model_digest, FileEntry};
use app::domain::roles::Role;
use app::service::artifact_store::ArtifactStore;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The S3 server, stopped (by its own pid) when dropped.
struct S3Server {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_s3() -> S3Server {
    let bin = std::env::var("GATEHOUSE_S3_SERVER").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv-s3/bin/moto_server").to_string()
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start the S3 server {bin} (run `make setup-test`): {e}")
        });
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http.get(&server.endpoint).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A bucket, created with a plain S3 call.
    let r = http
        .put(format!("{}/gatehouse-artifacts", server.endpoint))
        .send()
        .await
        .expect("the S3 server answers");
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    server
}

fn store(s3: &S3Server) -> ArtifactStore {
    ArtifactStore::open_with(
        "s3://gatehouse-artifacts/team-a/artifacts",
        &[
            ("aws_endpoint", s3.endpoint.as_str()),
            ("aws_allow_http", "true"),
            ("aws_access_key_id", "testing"),
            ("aws_secret_access_key", "testing"),
            ("aws_region", "us-east-1"),
        ],
    )
    .expect("s3 store")
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[tokio::test]
async fn artifacts_live_in_an_s3_bucket_with_the_same_guarantees() {
    let s3 = start_s3().await;
    let app = spawn_app_on_store(store(&s3)).await;
    app.user("sci", &[Role::Scientist]).await;
    let token = app::service::accounts::create_token(
        &app.pool,
        "t",
        "sci",
        "t",
        app::service::accounts::Issue::owner(),
    )
    .await
    .unwrap()
    .token;
    let c = app.client();
    let post = |path: &str, body: Value| {
        let req = c
            .post(app.url(&format!("/api/2.0/mlflow/{path}")))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let exp = post("experiments/create", json!({ "name": "s3" })).await["experiment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = post("runs/create", json!({ "experiment_id": exp })).await["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let model = post(
        "logged-models",
        json!({ "experiment_id": exp, "name": "model", "source_run_id": run }),
    )
    .await["model"]["info"]["model_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let root = format!("{exp}/models/{model}/artifacts");
    let art = |p: &str| app.url(&format!("/api/2.0/mlflow-artifacts/artifacts/{root}/{p}"));
    // A small file in one request; a 20 MB one in S3 multipart parts.
    let big: Vec<u8> = (0..20_000_000u32).map(|i| (i % 253) as u8).collect();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("MLmodel", b"flavors: {}\n".to_vec()),
        ("weights/model.bin", big.clone()),
    ];
    for (p, b) in &files {
        let r = c
            .put(art(p))
            .bearer_auth(&token)
            .body(b.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{p}");
    }
    // The bytes are in the bucket, under the prefix.
    let listed = store(&s3).list_under(&root).await.unwrap();
    assert_eq!(
        listed,
        vec![
            ("MLmodel".to_string(), 12),
            ("weights/model.bin".to_string(), 20_000_000)
        ]
    );
    let r = c
        .get(art("weights/model.bin"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        big,
        "byte for byte through S3"
    );
    let r = c
        .get(app.url("/api/2.0/mlflow-artifacts/artifacts"))
        .bearer_auth(&token)
        .query(&[("path", root.as_str())])
        .send()
        .await
        .unwrap();
    let listing: Value = r.json().await.unwrap();
    assert_eq!(
        listing["files"],
        json!([{ "path": "weights", "is_dir": true }, { "path": "MLmodel", "is_dir": false, "file_size": 12 }])
    );

    // Finalized: the digest covers the S3 bytes, and they are frozen.
    let r = c
        .patch(app.url(&format!("/api/2.0/mlflow/logged-models/{model}")))
        .bearer_auth(&token)
        .json(&json!({ "status": "LOGGED_MODEL_READY" }))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
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
    assert_eq!(v["model"]["info"]["digest"], expected);
    let r = c
        .put(art("MLmodel"))
        .bearer_auth(&token)
        .body("swapped")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v = app::service::artifact_checks::verify_folder(
        &app.pool,
        &app.artifacts(),
        &root,
        &expected,
        &files
            .iter()
            .map(|(p, b)| FileEntry {
                path: p.to_string(),
                size: b.len() as u64,
                sha256: sha(b),
            })
            .collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert!(v.ok, "{}", v.detail);

    // A run file is deleted from the bucket with its audit entry.
    let run_file = app.url(&format!(
        "/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/notes.txt"
    ));
    let r = c
        .put(&run_file)
        .bearer_auth(&token)
        .body("n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .delete(&run_file)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(store(&s3)
        .list_under(&format!("{exp}/{run}"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_broken_s3_upload_leaves_nothing_in_the_bucket() {
    let s3 = start_s3().await;
    let st = store(&s3);
    let block = axum::body::Bytes::from(vec![9u8; 4 << 20]);
    let broken = futures_util::stream::iter(
        (0..4)
            .map(|_| Ok::<_, String>(block.clone()))
            .chain([Err("connection reset".to_string())]),
    );
    assert!(st
        .put_stream("1/abc/artifacts/big", broken, u64::MAX)
        .await
        .is_err());
    assert!(st.list_under("1").await.unwrap().is_empty());
    let whole = futures_util::stream::iter((0..4).map(|_| Ok::<_, String>(block.clone())));
    let stored = st
        .put_stream("1/abc/artifacts/big", whole, u64::MAX)
        .await
        .unwrap();
    assert_eq!(stored.size, 16 << 20);
    assert_eq!(st.hash("1/abc/artifacts/big").await.unwrap(), Some(stored));
}
