//! The real server binary killed (SIGKILL) while a receiver holds its delivery open: nothing
//! was recorded, so the restarted server sends the same delivery again (same delivery id and
//! body) once the dead server's lease has lapsed, and records it delivered.

use super::receiver::{Receiver, Reply};
use crate::common::{free_port, on_postgres, postgres::Cluster};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary with this test's store, signing key and artifact root.
fn command(env: &[(String, String)], args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_server"));
    c.args(args).env("GATEHOUSE_LOG", "warn");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs a CLI verb that must succeed; answers what it printed, trimmed.
fn succeed(env: &[(String, String)], args: &[&str]) -> String {
    let out = command(env, args).output().expect("run the server binary");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

async fn serve(env: &[(String, String)], port: u16) -> Server {
    let child = command(env, &["serve", "--webhook-allowed-networks", "127.0.0.1"])
        .args(["--webhook-retry-ms", "200"])
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let ready = reqwest::get(format!("{}/readyz", server.base)).await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start on port {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_delivery_sends_it_again_after_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name).display().to_string();
    let mut env = vec![("ARTIFACT_ROOT".to_owned(), path("artifacts"))];
    let url = if on_postgres() {
        Cluster::get().fresh_database().await
    } else {
        format!("sqlite://{}", path("gatehouse.db"))
    };
    env.push(("DATABASE_URL".to_owned(), url));
    if on_postgres() {
        let key = path("signing.key");
        succeed(&env, &["create-signing-key", &key]);
        // Servers of one PostgreSQL database share a key named to them (on SQLite it is
        // created beside the database file).
        env.push(("AUDIT_SIGNING_KEY_FILE".to_owned(), key));
    }
    let mut create = command(&env, &["create-user", "--username", "boss"])
        .args(["--role", "admin", "--role", "scientist", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut stdin = create.stdin.take().unwrap();
    stdin.write_all(b"a long enough password\n").unwrap();
    drop(stdin);
    assert!(create.wait().unwrap().success());
    let token = succeed(
        &env,
        &["create-token", "--username", "boss", "--name", "hooks"],
    );

    let rx = Receiver::start().await;
    rx.script(&[Reply::Hang]);
    let port = free_port();
    let first = serve(&env, port).await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        http.post(format!("{}{path}", first.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let hook = json!({ "name": "ci", "url": rx.url, "secret": "a-secret-of-sixteen-plus",
        "events": [{ "entity": "REGISTERED_MODEL", "action": "CREATED" }] });
    let r = post("/api/2.0/mlflow/webhooks", hook).await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let model = json!({ "name": "killed-mid-delivery" });
    let r = post("/api/2.0/mlflow/registered-models/create", model)
        .await
        .unwrap();
    assert!(r.status().is_success());
    let held = rx.wait_for(1).await;
    drop(first); // SIGKILL, mid-delivery: the receiver never answered.

    let second = serve(&env, port).await;
    // The dead server's lease lapses within 30 s; then the new one delivers.
    for _ in 0..900 {
        if rx.got().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = rx.got();
    assert_eq!(got.len(), 2, "sent again after the restart");
    assert_eq!(
        got[1].header("x-mlflow-delivery-id"),
        held[0].header("x-mlflow-delivery-id")
    );
    assert_eq!(got[1].body, held[0].body);
    let list = format!("{}/api/v1/webhooks/deliveries", second.base);
    let mut state = Value::Null;
    for _ in 0..100 {
        let all: Value = http
            .get(&list)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        state = all[0]["state"].clone();
        if state == "delivered" {
            assert_eq!(all[0]["attempts"].as_array().map(Vec::len), Some(1));
            assert_eq!(all.as_array().map(Vec::len), Some(1), "one delivery");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the delivery is {state}, not delivered");
}
