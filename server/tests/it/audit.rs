//! The audit trail: same-transaction writes, append-only triggers, tamper detection, filters.

use crate::common::spawn_app;
use app::domain::roles::Role;
use reqwest::StatusCode;
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_change_leaves_neither_the_change_nor_an_entry() {
    let app = spawn_app().await;
    let before = app.audit_count().await;
    // Make the second statement of user creation (its roles) fail after the user row is written.
    let injected: &[&str] = if crate::common::on_postgres() {
        &[
            "CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$",
            "CREATE TRIGGER test_fail_roles BEFORE INSERT ON user_roles FOR EACH ROW WHEN (NEW.role = 'auditor') EXECUTE FUNCTION test_fail()",
        ]
    } else {
        &["CREATE TRIGGER test_fail_roles BEFORE INSERT ON user_roles WHEN NEW.role = 'auditor' BEGIN SELECT RAISE(ABORT, 'injected'); END"]
    };
    for sql in injected {
        sqlx::raw_sql(sql).execute(&app.pool).await.unwrap();
    }
    let err = app::service::accounts::create_user(
        &app.pool,
        "test",
        "carol",
        &[Role::Auditor],
        crate::common::PASSWORD,
    )
    .await;
    assert!(err.is_err());
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE username = 'carol'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
    assert_eq!(app.audit_count().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_users_are_a_conflict_with_no_entry() {
    let app = spawn_app().await;
    let admin = app.signed_in("root", &[Role::Admin]).await;
    let before = app.audit_count().await;
    let r = admin
        .post(app.url("/api/create_user"))
        .form(&[
            ("username", "root"),
            ("password", crate::common::PASSWORD),
            ("roles[viewer]", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(app.audit_count().await, before);

    let r = admin
        .post(app.url("/api/create_user"))
        .form(&[
            ("username", "Bad Name"),
            ("password", crate::common::PASSWORD),
            ("roles[viewer]", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["field"], "username");

    let r = admin
        .post(app.url("/api/create_user"))
        .form(&[
            ("username", "dave"),
            ("password", crate::common::PASSWORD),
            ("roles[scientist]", "on"),
            ("roles[reviewer]", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let last = app.audit_actions().await.pop().unwrap();
    assert_eq!(last, ("root".into(), "user.create".into(), "dave".into()));
    let roles = app::store::users::list(&app.pool).await.unwrap();
    let dave = roles.iter().find(|u| u.username == "dave").unwrap();
    assert_eq!(dave.roles, vec![Role::Scientist, Role::Reviewer]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_refuse_update_and_delete() {
    let app = spawn_app().await;
    app.user("alice", &[Role::Viewer]).await;
    let e = sqlx::query("UPDATE audit_log SET actor = 'x'")
        .execute(&app.pool)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = sqlx::query("DELETE FROM audit_log")
        .execute(&app.pool)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

pub(crate) async fn tamper(app: &crate::common::TestApp, sql: &str) {
    // A separate, test-only connection that drops the guards, as an attacker with file access could.
    let mut conn = app::store::Conn::connect(&app.db_url).await.unwrap();
    let guards_off: &[&str] = if crate::common::on_postgres() {
        &["ALTER TABLE audit_log DISABLE TRIGGER USER"]
    } else {
        &[
            "DROP TRIGGER IF EXISTS audit_log_no_update",
            "DROP TRIGGER IF EXISTS audit_log_no_delete",
        ]
    };
    for sql in guards_off {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    if crate::common::on_postgres() {
        sqlx::query("ALTER TABLE audit_log ENABLE TRIGGER USER")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_a_row_is_reported_at_its_sequence_number() {
    let app = spawn_app().await;
    let auditor = app.signed_in("aud", &[Role::Auditor]).await;
    for n in ["u1", "u2", "u3"] {
        app.user(n, &[Role::Viewer]).await;
    }
    let ok: serde_json::Value = auditor
        .get(app.url("/api/v1/audit/verify"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["verified"], 5);

    tamper(
        &app,
        "UPDATE audit_log SET details = '{\"roles\":[\"admin\"]}' WHERE seq = 3",
    )
    .await;
    let bad: serde_json::Value = auditor
        .get(app.url("/api/v1/audit/verify"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["first_bad_seq"], 3);
    assert_eq!(bad["reason"]["reason"], "hash_mismatch");
    assert_eq!(bad["verified"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_rows_is_reported() {
    let app = spawn_app().await;
    for n in ["u1", "u2", "u3", "u4"] {
        app.user(n, &[Role::Viewer]).await;
    }
    tamper(&app, "DELETE FROM audit_log WHERE seq = 2").await;
    let r = app::store::audit::verify(&app.pool).await.unwrap();
    assert_eq!(r.first_bad_seq, Some(3));
    tamper(&app, "DELETE FROM audit_log WHERE seq >= 2").await;
    let r = app::store::audit::verify(&app.pool).await.unwrap();
    assert!(!r.ok);
    assert_eq!(r.first_bad_seq, Some(2), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_keyset_pages_over_rest() {
    let app = spawn_app().await;
    let auditor = app.signed_in("aud", &[Role::Auditor]).await;
    let mut entries = Vec::new();
    for i in 0..120 {
        entries.push(app::store::audit::NewEntry::new(
            if i % 2 == 0 { "even" } else { "odd" },
            if i % 3 == 0 {
                "model.promote"
            } else {
                "run.create"
            },
            "run",
            format!("r{i}"),
            serde_json::json!({ "i": i }),
        ));
    }
    let mut tx = app::store::begin_write(&app.pool).await.unwrap();
    app::store::audit::append_all(&mut tx, &app::service::now_ts(), &entries)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let page1: serde_json::Value = auditor
        .get(app.url("/api/v1/audit?actor=even"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = page1["entries"].as_array().unwrap();
    assert_eq!(rows.len(), 50);
    assert!(rows.iter().all(|r| r["actor"] == "even"));
    let seqs: Vec<i64> = rows.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first");
    let next = page1["next_before"].as_i64().unwrap();
    let page2: serde_json::Value = auditor
        .get(app.url(&format!("/api/v1/audit?actor=even&before={next}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page2["entries"].as_array().unwrap().len(), 10);
    assert!(page2["next_before"].is_null());

    let obj: serde_json::Value = auditor
        .get(app.url("/api/v1/audit?object_type=run&object_id=r7"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(obj["entries"].as_array().unwrap().len(), 1);

    let prefix: serde_json::Value = auditor
        .get(app.url("/api/v1/audit?action=model."))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prefix["entries"].as_array().unwrap().len(), 40);

    let future: serde_json::Value = auditor
        .get(app.url("/api/v1/audit?from=2999-01-01"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(future["entries"].as_array().unwrap().len(), 0);
    let past: serde_json::Value = auditor
        .get(app.url("/api/v1/audit?to=2999-01-01&actor=odd"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(past["entries"].as_array().unwrap().len(), 50);

    let bad = auditor
        .get(app.url("/api/v1/audit?from=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["field"], "from");

    // The HTML page shows the same filter and a link to the next page.
    let html = auditor
        .get(app.url("/audit?actor=odd"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Older entries"), "pager link");
    assert!(html.contains("r119"));
    assert!(!html.contains("r118"));
}

#[tokio::test]
async fn the_overview_counts_the_chain_and_shows_the_newest_entries() {
    use app::store::audit::overview;
    let app = spawn_app().await;
    let (totals, recent) = overview(&app.pool, None, 8, &app::service::now_ts())
        .await
        .expect("overview");
    assert_eq!(
        (totals.users, totals.live_tokens, totals.audit_entries),
        (0, 0, 0)
    );
    assert!(recent.is_empty());
    app.user("counted-a", &[Role::Viewer]).await;
    app.user("counted-b", &[Role::Admin]).await;
    let (totals, recent) = overview(&app.pool, None, 8, &app::service::now_ts())
        .await
        .expect("overview");
    let (users, counted) = (totals.users, totals.audit_entries);
    assert!(counted >= 2);
    assert_eq!(counted, app.audit_count().await);
    assert_eq!(users, 2);
    // Newest first, the same rows the audit page shows.
    let seqs: Vec<i64> = recent.iter().map(|r| r.seq).collect();
    assert_eq!(seqs.first(), Some(&counted));
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    let page = app::store::audit::page(&app.pool, &Default::default(), 8)
        .await
        .expect("page");
    assert_eq!(recent, page);
    // Limited to one actor: that actor's entries only, and none for a user who never acted.
    let actor = recent[0].actor.clone();
    let (_, own) = overview(&app.pool, Some(&actor), 8, &app::service::now_ts())
        .await
        .expect("overview");
    assert!(
        !own.is_empty() && own.iter().all(|r| r.actor == actor),
        "{own:?}"
    );
    let (_, none) = overview(&app.pool, Some("counted-a"), 8, &app::service::now_ts())
        .await
        .expect("overview");
    assert!(none.is_empty(), "{none:?}");
    let (_, limited) = overview(&app.pool, None, 1, &app::service::now_ts())
        .await
        .expect("overview");
    assert_eq!(limited.len(), 1);
}
