//! Webhooks: MLflow's webhook API for admins, every event signed as MLflow signs it and
//! received in order, retries with backoff and `Retry-After` recorded per attempt, nothing lost
//! when the delivering server stops mid-delivery, dead deliveries sent again by an admin.

mod killed;
mod receiver;

use crate::common::{spawn_app, spawn_app_with};
use crate::promotions::{Api, METRIC_ONLY};
use app::domain::webhooks::address::Allowed;
use app::domain::webhooks::retry::Schedule;
use app::domain::webhooks::EventKind;
use app::service::state::{Config, WebhookSettings};
use receiver::{Received, Receiver, Reply};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::webhooks::delivery::{self, Sender};
use std::time::Duration;

const W: &str = "/api/2.0/mlflow/webhooks";
const M: &str = "/api/2.0/mlflow";
const SECRET: &str = "a-shared-secret-for-tests";

fn loopback() -> Allowed {
    Allowed::parse("127.0.0.0/8").unwrap()
}

fn fast() -> Schedule {
    Schedule {
        base: Duration::from_millis(200),
        cap: Duration::from_secs(2),
        max_attempts: 4,
    }
}

async fn api() -> Api {
    let config = Config {
        webhooks: WebhookSettings {
            allowed: loopback(),
            schedule: fast(),
        },
        ..Config::default()
    };
    Api::on(spawn_app_with(config, Default::default()).await).await
}

fn worker(api: &Api, holder: &str) -> tokio::task::JoinHandle<()> {
    let sender = Sender::new(loopback(), "http://gatehouse.test").unwrap();
    delivery::run(api.app.pool.clone(), sender, fast(), holder.to_owned())
}

fn wire(kind: EventKind) -> Value {
    json!({ "entity": kind.entity.to_uppercase(), "action": kind.action.to_uppercase() })
}

/// Subscribes `url` to `events` as the admin; returns the webhook's id.
async fn subscribe(api: &Api, url: &str, events: &[EventKind], format: &str) -> String {
    let events: Vec<Value> = events.iter().copied().map(wire).collect();
    let body =
        json!({ "name": "ci", "url": url, "events": events, "secret": SECRET, "format": format });
    let created = api.ok("adm", Method::POST, W, body).await;
    created["webhook"]["webhook_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Checks MLflow's signature of a received delivery, computed here independently.
fn assert_signed(r: &Received, secret: &str) {
    use base64::Engine;
    use hmac::Mac;
    let (id, ts) = (
        r.header("x-mlflow-delivery-id"),
        r.header("x-mlflow-timestamp"),
    );
    assert!(
        !id.is_empty() && ts.parse::<i64>().is_ok(),
        "{:?}",
        r.headers
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{id}.{ts}.{}", r.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(
        r.header("x-mlflow-signature"),
        format!("v1,{expected}"),
        "{}",
        r.body
    );
}

async fn send(
    api: &Api,
    user: &str,
    method: Method,
    path: &str,
    query: &[(&str, &str)],
) -> StatusCode {
    let r = api
        .app
        .client()
        .request(method, api.app.url(path))
        .bearer_auth(&api.tokens[user]);
    r.query(query).send().await.unwrap().status()
}

async fn deliveries(api: &Api) -> Vec<Value> {
    let (s, v) = api
        .call("adm", Method::GET, "/api/v1/webhooks/deliveries", json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

/// Waits (up to 30 s) until every delivery is `state`.
async fn settle(api: &Api, state: &str) -> Vec<Value> {
    for _ in 0..300 {
        let all = deliveries(api).await;
        if !all.is_empty() && all.iter().all(|d| d["state"] == state) {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "deliveries did not all become {state}: {:?}",
        deliveries(api).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_webhooks_over_mlflows_api_and_bad_ones_are_named() {
    let api = api().await;
    let rx = Receiver::start().await;
    let events = json!([
        wire(EventKind::ALIAS_CREATED),
        wire(EventKind::VERSION_CREATED)
    ]);
    let body = json!({ "name": "deploys", "url": rx.url, "events": events, "description": "CD" });
    let (s, v) = api.call("sci", Method::POST, W, body.clone()).await;
    assert_eq!(
        (s, v["error_code"].as_str()),
        (StatusCode::FORBIDDEN, Some("PERMISSION_DENIED"))
    );

    let created = api.ok("adm", Method::POST, W, body).await;
    let w = &created["webhook"];
    let id = w["webhook_id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32, "a generated secret: {created}");
    assert_eq!(
        w["events"],
        json!([
            wire(EventKind::VERSION_CREATED),
            wire(EventKind::ALIAS_CREATED)
        ])
    );
    assert_eq!(
        (w["status"].as_str(), w["format"].as_str()),
        (Some("ACTIVE"), Some("JSON"))
    );
    // The secret is shown once: never again.
    let got = api
        .ok("adm", Method::GET, &format!("{W}/{id}"), json!({}))
        .await;
    assert_eq!(got["webhook"]["name"], "deploys");
    let listed = api.ok("adm", Method::GET, W, json!({})).await;
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert!(!got.to_string().contains(&secret) && !listed.to_string().contains(&secret));

    let upd = json!({ "status": "DISABLED", "name": "deploys-2" });
    let changed = api
        .ok("adm", Method::PATCH, &format!("{W}/{id}"), upd)
        .await;
    assert_eq!(changed["webhook"]["status"], "DISABLED");
    assert_eq!(changed["webhook"]["events"], w["events"]);

    // MLflow's test: an example event sent now, signed with the secret.
    let t = api
        .ok(
            "adm",
            Method::POST,
            &format!("{W}/{id}/test"),
            json!({ "event": wire(EventKind::ALIAS_CREATED) }),
        )
        .await;
    assert_eq!(
        (
            t["result"]["success"].as_bool(),
            t["result"]["response_status"].as_i64()
        ),
        (Some(true), Some(200))
    );
    let got = rx.wait_for(1).await;
    assert_signed(&got[0], &secret);
    assert_eq!(got[0].json()["data"]["alias"], "example_alias");

    let ev = json!([wire(EventKind::VERSION_CREATED)]);
    let bad = [
        (
            json!({ "name": "x", "url": "ftp://h.example/", "events": ev }),
            "url",
            "ftp",
        ),
        (
            json!({ "name": "x", "url": "http://10.1.2.3/in", "events": ev }),
            "url",
            "private",
        ),
        (
            json!({ "name": "x", "url": "http://169.254.169.254/", "events": ev }),
            "url",
            "link-local",
        ),
        (
            json!({ "name": "x", "url": rx.url, "events": [{ "entity": "MODEL_VERSION", "action": "DELETED" }] }),
            "events[0]",
            "not an event",
        ),
        (json!({ "url": rx.url, "events": ev }), "name", "name"),
        (
            json!({ "name": "x", "url": rx.url, "events": [] }),
            "events",
            "at least one",
        ),
        (
            json!({ "name": "x", "url": rx.url, "events": ev, "secret": "short" }),
            "secret",
            "16",
        ),
        (
            json!({ "name": "x", "url": rx.url, "events": ev, "status": "PAUSED" }),
            "status",
            "ACTIVE",
        ),
    ];
    for (body, field, words) in bad {
        let (s, v) = api.call("adm", Method::POST, W, body).await;
        assert_eq!(
            (s, v["error_code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_PARAMETER_VALUE")),
            "{v}"
        );
        let message = v["message"].as_str().unwrap();
        assert!(
            message.contains(field) && message.contains(words),
            "{field}: {message}"
        );
    }
    let listed = api.ok("adm", Method::GET, W, json!({})).await;
    assert_eq!(
        listed["webhooks"].as_array().unwrap().len(),
        1,
        "nothing refused was stored"
    );

    api.ok("adm", Method::DELETE, &format!("{W}/{id}"), json!({}))
        .await;
    let (s, v) = api
        .call("adm", Method::GET, &format!("{W}/{id}"), json!({}))
        .await;
    assert_eq!(
        (s, v["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("RESOURCE_DOES_NOT_EXIST"))
    );
    let actions: Vec<(String, String)> = api
        .app
        .audit_actions()
        .await
        .into_iter()
        .filter(|a| a.1.starts_with("webhook."))
        .map(|a| (a.0, a.1))
        .collect();
    let by_admin = |a: &str| ("adm/token:t".to_owned(), a.to_owned());
    assert_eq!(
        actions,
        [
            by_admin("webhook.create"),
            by_admin("webhook.update"),
            by_admin("webhook.delete")
        ]
    );

    // Without an admin's allowance, loopback receivers are refused too.
    let plain = spawn_app().await;
    plain.user("root", &[app::domain::roles::Role::Admin]).await;
    let token = app::service::accounts::create_token(
        &plain.pool,
        "root",
        "root",
        "t",
        app::service::accounts::Issue::owner(),
    )
    .await
    .unwrap()
    .token;
    let body = json!({ "name": "x", "url": rx.url, "events": ev });
    let r = plain
        .client()
        .post(plain.url(W))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("loopback"));
}

/// Drives one of each event through the API (and the expiry job), in this order.
async fn every_event(api: &Api) -> Vec<EventKind> {
    use EventKind as E;
    let mut expected = vec![E::MODEL_CREATED, E::VERSION_CREATED, E::VERSION_CREATED];
    assert_eq!(api.put_policy("*", METRIC_ONLY).await.0, StatusCode::OK);
    api.model("credit", &[0.81, 0.5], "sci").await;
    let tag = json!({ "name": "credit", "version": "1", "key": "stage", "value": "qa" });
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/model-versions/set-tag"),
        tag,
    )
    .await;
    let q = [("name", "credit"), ("version", "1"), ("key", "stage")];
    assert_eq!(
        send(
            api,
            "sci",
            Method::DELETE,
            &format!("{M}/model-versions/delete-tag"),
            &q
        )
        .await,
        StatusCode::OK
    );
    for version in ["1", "2"] {
        let alias = json!({ "name": "credit", "alias": "staging", "version": version });
        api.ok(
            "sci",
            Method::POST,
            &format!("{M}/registered-models/alias"),
            alias,
        )
        .await;
    }
    let q = [("name", "credit"), ("alias", "staging")];
    assert_eq!(
        send(
            api,
            "sci",
            Method::DELETE,
            &format!("{M}/registered-models/alias"),
            &q
        )
        .await,
        StatusCode::OK
    );
    expected.extend([
        E::VERSION_TAG_SET,
        E::VERSION_TAG_DELETED,
        E::ALIAS_CREATED,
        E::ALIAS_CREATED,
        E::ALIAS_MOVED,
        E::ALIAS_DELETED,
    ]);

    let id = api.request("both", "credit", 1).await["request"]["request_id"]
        .as_i64()
        .unwrap();
    for reviewer in ["rev1", "rev2"] {
        api.ok(
            reviewer,
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "Metrics hold" }),
        )
        .await;
    }
    expected.extend([
        E::PROMOTION_REQUESTED,
        E::ALIAS_CREATED,
        E::PROMOTION_APPROVED,
    ]);
    let id = api.request("sci", "credit", 2).await["request"]["request_id"]
        .as_i64()
        .unwrap();
    let waive = json!({ "check": "metric:auc", "reason": "AUC measured on the wrong holdout" });
    api.ok(
        "rev1",
        Method::POST,
        &format!("/api/v1/promotions/{id}/waive"),
        waive,
    )
    .await;
    api.ok(
        "sci",
        Method::POST,
        &format!("/api/v1/promotions/{id}/withdraw"),
        json!({}),
    )
    .await;
    let id = api.request("sci", "credit", 2).await["request"]["request_id"]
        .as_i64()
        .unwrap();
    api.ok(
        "rev1",
        Method::POST,
        &format!("/api/v1/promotions/{id}/reject"),
        json!({ "comment": "Not yet" }),
    )
    .await;
    let id = api.request("sci", "credit", 2).await["request"]["request_id"]
        .as_i64()
        .unwrap();
    sqlx::query(
        "UPDATE promotion_requests SET expires_at = '2000-01-01T00:00:00Z' WHERE request_id = $1",
    )
    .bind(id)
    .execute(&api.app.pool)
    .await
    .unwrap();
    assert_eq!(
        app::service::promotions::expire(&api.app.pool)
            .await
            .unwrap(),
        1
    );
    expected.extend([
        E::PROMOTION_REQUESTED,
        E::PROMOTION_WAIVED,
        E::PROMOTION_WITHDRAWN,
    ]);
    expected.extend([
        E::PROMOTION_REQUESTED,
        E::PROMOTION_REJECTED,
        E::PROMOTION_REQUESTED,
        E::PROMOTION_EXPIRED,
    ]);

    let test = json!({
        "name": "ranker v4", "hypothesis": "The new ranker lifts checkout conversion", "status": "running",
        "start_date": "2026-11-01",
        "variants": [{ "name": "control", "weight": 50 }, { "name": "challenger", "weight": 50 }],
        "metrics": [{ "name": "checkout", "type": "binomial" }],
    });
    let (s, created) = api
        .call("pm", Method::POST, "/api/v1/experiments", test)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let decide = json!({ "decision": "extend", "comment": "Too early to call" });
    let path = format!("/api/v1/experiments/{}/decision", created["id"]);
    let (s, v) = api.call("pm", Method::POST, &path, decide).await;
    assert!(s.is_success(), "{v}");

    // Everyone in group a is approved, nobody in group b: the report fails.
    let mut csv = String::from("label,pred,sex\n");
    for i in 0..60 {
        csv.push_str(&format!("{},1,a\n{},0,b\n", i % 2, i % 2));
    }
    let path = "/api/v1/fairness/reports?model_version=credit@1&dataset=holdout&label=label&prediction=pred&attributes=sex";
    let r = api
        .app
        .client()
        .post(api.app.url(path))
        .bearer_auth(&api.tokens["sci"])
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    crate::audit::tamper(
        &api.app,
        "UPDATE audit_log SET details = '{}' WHERE seq = 2",
    )
    .await;
    let (s, v) = api
        .call("adm", Method::GET, "/api/v1/audit/verify", json!({}))
        .await;
    assert_eq!((s, v["ok"].as_bool()), (StatusCode::OK, Some(false)));
    expected.extend([
        E::AB_TEST_DECIDED,
        E::FAIRNESS_FAILED,
        E::AUDIT_VERIFICATION_FAILED,
    ]);
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_its_subscriber_signed_and_in_order() {
    let api = api().await;
    let rx = Receiver::start().await;
    let all: Vec<EventKind> = EventKind::all().collect();
    subscribe(&api, &rx.url, &all, "JSON").await;
    let _worker = worker(&api, "server-a");
    let expected = every_event(&api).await;
    let covered: std::collections::BTreeSet<EventKind> = expected.iter().copied().collect();
    assert_eq!(covered.len(), all.len(), "every event is driven");

    let got = rx.wait_for(expected.len()).await;
    let names: Vec<String> = got
        .iter()
        .map(|r| {
            let b = r.json();
            format!(
                "{}.{}",
                b["entity"].as_str().unwrap(),
                b["action"].as_str().unwrap()
            )
        })
        .collect();
    let wanted: Vec<String> = expected.iter().map(|k| k.name()).collect();
    assert_eq!(names, wanted);
    for r in &got {
        assert_signed(r, SECRET);
        let b = r.json();
        assert!(b["timestamp"].as_str().unwrap().ends_with("+00:00"), "{b}");
        assert!(
            b["link"]
                .as_str()
                .unwrap()
                .starts_with("http://gatehouse.test/"),
            "{b}"
        );
    }
    let version = got[1].json()["data"].clone();
    assert_eq!(
        (version["name"].as_str(), version["version"].as_str()),
        (Some("credit"), Some("1"))
    );
    let moved = got
        .iter()
        .map(Received::json)
        .find(|b| b["action"] == "moved")
        .unwrap();
    assert_eq!(
        (
            moved["data"]["from_version"].as_str(),
            moved["data"]["to_version"].as_str()
        ),
        (Some("1"), Some("2"))
    );
    let approved = got
        .iter()
        .map(Received::json)
        .find(|b| b["action"] == "approved")
        .unwrap();
    let id = approved["data"]["request_id"].as_i64().unwrap();
    assert_eq!(
        approved["link"],
        format!("http://gatehouse.test/promotions/{id}")
    );
    assert!(settle(&api, "delivered").await.iter().all(|d| d["attempts"]
        .as_array()
        .unwrap()
        .len()
        == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_then_back_gets_each_event_once_in_order() {
    let api = api().await;
    let rx = Receiver::start().await;
    subscribe(&api, &rx.url, &[EventKind::VERSION_TAG_SET], "JSON").await;
    api.model("credit", &[0.81], "sci").await;
    for value in ["first", "second"] {
        let tag = json!({ "name": "credit", "version": "1", "key": "stage", "value": value });
        api.ok(
            "sci",
            Method::POST,
            &format!("{M}/model-versions/set-tag"),
            tag,
        )
        .await;
    }
    rx.script(&[Reply::Status(503, Some("1")), Reply::Status(503, None)]);
    let _worker = worker(&api, "server-a");
    let got = rx.wait_for(4).await;
    let value = |r: &Received| r.json()["data"]["value"].as_str().unwrap().to_owned();
    let values: Vec<String> = got.iter().map(value).collect();
    assert_eq!(
        values,
        ["first", "first", "first", "second"],
        "the second waits for the first"
    );
    let first_id = got[0].header("x-mlflow-delivery-id");
    assert!(got[..3]
        .iter()
        .all(|r| r.header("x-mlflow-delivery-id") == first_id));
    assert_ne!(got[3].header("x-mlflow-delivery-id"), first_id);

    let done = settle(&api, "delivered").await;
    assert_eq!(done.len(), 2);
    let first = done
        .iter()
        .find(|d| d["delivery_id"] == first_id.as_str())
        .unwrap();
    let attempts = first["attempts"].as_array().unwrap();
    let codes: Vec<i64> = attempts
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [503, 503, 200]);
    assert!(attempts
        .iter()
        .all(|a| a["latency_ms"].as_i64().unwrap() >= 0));
    // The receiver asked for a second's pause; the backoff alone would have waited 200 ms.
    let at: Vec<i64> = sqlx::query_scalar(
        "SELECT at_ms FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt_id",
    )
    .bind(&first_id)
    .fetch_all(&api.app.pool)
    .await
    .unwrap();
    assert!(at[1] - at[0] >= 1000, "Retry-After honoured: {at:?}");
    assert_eq!(rx.got().len(), 4, "delivered once each");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stopped_mid_delivery_loses_nothing() {
    let api = api().await;
    let rx = Receiver::start().await;
    subscribe(&api, &rx.url, &[EventKind::MODEL_CREATED], "JSON").await;
    rx.script(&[Reply::Hang]);
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/registered-models/create"),
        json!({ "name": "credit" }),
    )
    .await;
    let a = worker(&api, "server-a");
    let first = rx.wait_for(1).await;
    a.abort();
    let _ = a.await;
    let pending = deliveries(&api).await;
    assert_eq!(pending[0]["state"], "pending");
    assert!(
        pending[0]["attempts"].as_array().unwrap().is_empty(),
        "no outcome was recorded"
    );

    // Server a is gone; once its lease lapses (aged here rather than waited for), b delivers.
    sqlx::query("UPDATE job_leases SET until_ms = 0 WHERE job = $1")
        .bind(delivery::LEASE)
        .execute(&api.app.pool)
        .await
        .unwrap();
    let _b = worker(&api, "server-b");
    let got = rx.wait_for(2).await;
    assert_eq!(
        got[1].header("x-mlflow-delivery-id"),
        first[0].header("x-mlflow-delivery-id")
    );
    assert_eq!(got[1].body, first[0].body);
    let done = settle(&api, "delivered").await;
    assert_eq!(done[0]["attempts"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_deliveries_wait_for_an_admin_to_send_them_again_as_slack_messages() {
    let api = api().await;
    let rx = Receiver::start().await;
    subscribe(&api, &rx.url, &[EventKind::VERSION_TAG_SET], "SLACK").await;
    api.model("credit", &[0.81], "sci").await;
    rx.script(&[Reply::Status(500, None); 4]);
    let tag = json!({ "name": "credit", "version": "1", "key": "stage", "value": "<qa>" });
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/model-versions/set-tag"),
        tag,
    )
    .await;
    let _worker = worker(&api, "server-a");
    rx.wait_for(4).await;
    let dead = settle(&api, "dead").await;
    assert_eq!(dead[0]["attempts"].as_array().unwrap().len(), 4);
    let text = rx.got()[0].json()["text"].as_str().unwrap().to_owned();
    assert_eq!(
        text,
        "*Model version tag set* — name: credit, version: 1, key: stage, value: &lt;qa&gt;\n\
         <http://gatehouse.test/models/credit/versions/1|Open in Gatehouse>"
    );

    let id = dead[0]["delivery_id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/deliveries/{id}/redeliver");
    assert_eq!(
        send(&api, "sci", Method::POST, &path, &[]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&api, "adm", Method::POST, &path, &[]).await,
        StatusCode::NO_CONTENT
    );
    rx.wait_for(5).await;
    let done = settle(&api, "delivered").await;
    assert_eq!(
        done[0]["attempts"].as_array().unwrap().len(),
        5,
        "every attempt kept"
    );
    let last = api.app.audit_actions().await.pop().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str(), last.2.as_str()),
        ("adm/token:t", "webhook.redeliver", id)
    );
}
