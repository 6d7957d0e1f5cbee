//! The audit trail's Merkle tree through the API: signed checkpoints, inclusion and
//! consistency proofs checked with the RFC 9162 verifiers, and a rewritten chain caught by
//! the checkpoint it no longer matches.

use crate::common::{spawn_app, TestApp};
use app::domain::audit_chain::{entry_hash_hex, EntryFields};
use app::domain::merkle::{self, from_hex, verify_consistency, verify_inclusion};
use app::domain::roles::Role;
use app::store::audit::{self, NewEntry};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

async fn append(app: &TestApp, n: usize) {
    let mut tx = app::store::begin_write(&app.pool).await.unwrap();
    for i in 0..n {
        audit::append(
            &mut tx,
            NewEntry::new(
                "system",
                "test.event",
                "thing",
                i.to_string(),
                json!({ "i": i }),
            ),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = c.get(app.url(path)).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// The leaf hashes of the first `size` entries, computed here from the stored chain hashes.
async fn leaves(app: &TestApp, size: u64) -> Vec<merkle::Hash> {
    let hashes: Vec<String> =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY seq LIMIT $1")
            .bind(size as i64)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    hashes
        .iter()
        .map(|x| merkle::leaf_hash(&hex::decode(x).unwrap()))
        .collect()
}

fn h(v: &Value) -> merkle::Hash {
    from_hex(v.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn every_entry_has_an_inclusion_proof_against_a_signed_checkpoint() {
    let app = spawn_app().await;
    let auditor = app.signed_in("aud", &[Role::Auditor]).await;
    append(&app, 70).await;
    let (s, cp) = get(&auditor, &app, "/api/v1/audit/checkpoint").await;
    assert_eq!(s, StatusCode::OK, "{cp}");
    let size = cp["tree_size"].as_u64().unwrap();
    assert!(size >= 71, "{cp}");
    // The checkpoint's signature verifies with the published key.
    let key = app::service::signing::parse_public_key(cp["public_key"].as_str().unwrap()).unwrap();
    let c: app::store::audit_tree::Checkpoint = serde_json::from_value(cp.clone()).unwrap();
    assert!(app::service::signing::verify_checkpoint(&key, &c));
    // Its root is the RFC 6962 root of the entry hashes, computed here independently.
    let leaves = leaves(&app, size).await;
    assert_eq!(merkle::to_hex(&merkle::root(&leaves)), cp["root_hash"]);

    for seq in 1..=size {
        let (s, p) = get(
            &auditor,
            &app,
            &format!("/api/v1/audit/entries/{seq}/proof"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        assert_eq!(p["tree_size"], size);
        assert_eq!(p["root_hash"], cp["root_hash"]);
        let path: Vec<merkle::Hash> = p["audit_path"].as_array().unwrap().iter().map(h).collect();
        assert!(
            verify_inclusion(
                seq - 1,
                size,
                &h(&p["leaf_hash"]),
                &path,
                &h(&cp["root_hash"])
            ),
            "entry {seq}"
        );
        assert_eq!(p["leaf_hash"], merkle::to_hex(&leaves[(seq - 1) as usize]));
    }
    // A proof in an older, smaller tree.
    let (_, p) = get(&auditor, &app, "/api/v1/audit/entries/5/proof?tree_size=17").await;
    let path: Vec<merkle::Hash> = p["audit_path"].as_array().unwrap().iter().map(h).collect();
    assert!(verify_inclusion(
        4,
        17,
        &leaves[4],
        &path,
        &merkle::root(&leaves[..17])
    ));

    // Bad input is named.
    let (s, v) = get(&auditor, &app, "/api/v1/audit/entries/0/proof").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = get(
        &auditor,
        &app,
        &format!("/api/v1/audit/entries/{}/proof", size + 500),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = get(&auditor, &app, "/api/v1/audit/entries/9/proof?tree_size=3").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // Viewers do not read the audit trail.
    let viewer = app.signed_in("vi", &[Role::Viewer]).await;
    let (s, _) = get(&viewer, &app, "/api/v1/audit/entries/1/proof").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn consistency_proofs_link_an_old_checkpoint_to_a_new_one() {
    let app = spawn_app().await;
    let auditor = app.signed_in("aud", &[Role::Auditor]).await;
    append(&app, 20).await;
    let (_, old) = get(&auditor, &app, "/api/v1/audit/checkpoint").await;
    append(&app, 45).await;
    let (_, new) = get(&auditor, &app, "/api/v1/audit/checkpoint").await;
    let (m, n) = (
        old["tree_size"].as_u64().unwrap(),
        new["tree_size"].as_u64().unwrap(),
    );
    assert!(n > m);
    let (s, c) = get(
        &auditor,
        &app,
        &format!("/api/v1/audit/consistency?first={m}&second={n}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["first_root"], old["root_hash"]);
    assert_eq!(c["second_root"], new["root_hash"]);
    let proof: Vec<merkle::Hash> = c["proof"].as_array().unwrap().iter().map(h).collect();
    assert!(verify_consistency(
        m,
        n,
        &h(&old["root_hash"]),
        &h(&new["root_hash"]),
        &proof
    ));
    let (s, v) = get(
        &auditor,
        &app,
        &format!("/api/v1/audit/consistency?first={n}&second={m}"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("first"), "{v}");
}

#[tokio::test]
async fn a_rewritten_chain_is_caught_by_the_checkpoint_it_no_longer_matches() {
    let app = spawn_app().await;
    let auditor = app.signed_in("aud", &[Role::Auditor]).await;
    append(&app, 30).await;
    let (_, ok) = get(&auditor, &app, "/api/v1/audit/verify").await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert!(ok["checkpoints_verified"].as_i64().unwrap() >= 1, "{ok}");
    assert_eq!(ok["checkpoint"]["root_hash"], ok["merkle_root"]);

    // An attacker with the file rewrites entry 5 and re-hashes the chain after it, so the
    // chain alone verifies again.
    let mut conn = app::store::Conn::connect(&app.db_url).await.unwrap();
    let guard_off = if crate::common::on_postgres() {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"
    } else {
        "DROP TRIGGER audit_log_no_update"
    };
    sqlx::query(guard_off).execute(&mut conn).await.unwrap();
    sqlx::query("UPDATE audit_log SET details = '{\"i\":999}' WHERE seq = 5")
        .execute(&mut conn)
        .await
        .unwrap();
    type Row = (i64, String, String, String, String, String, String);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, ts, actor, action, object_type, object_id, details FROM audit_log WHERE seq >= 5 ORDER BY seq",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut prev: String = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = 4")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    for (seq, ts, actor, action, ot, oid, details) in rows {
        let hash = entry_hash_hex(&EntryFields {
            seq,
            ts: &ts,
            actor: &actor,
            action: &action,
            object_type: &ot,
            object_id: &oid,
            details: &details,
            prev_hash: &prev,
        });
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&prev)
            .bind(&hash)
            .bind(seq)
            .execute(&mut conn)
            .await
            .unwrap();
        prev = hash;
    }
    conn.close().await.unwrap();

    let (_, bad) = get(&auditor, &app, "/api/v1/audit/verify").await;
    assert_eq!(bad["ok"], false, "{bad}");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("changed after it was signed"),
        "{bad}"
    );
}

#[tokio::test]
async fn filtered_exports_verify_offline_and_a_changed_byte_does_not() {
    let app = spawn_app().await;
    let auditor = app.signed_in("aud", &[Role::Auditor]).await;
    append(&app, 40).await;
    let json_text = auditor
        .get(app.url("/api/v1/audit/export?format=json&action=test.event&q=%22i%22:3"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let export = app::service::audit_export::parse(&json_text).unwrap();
    // Free text "i":3 matches i = 3 and 30..39: exactly those, oldest first.
    let ids: Vec<&str> = export
        .entries
        .iter()
        .map(|e| e.object_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["3", "30", "31", "32", "33", "34", "35", "36", "37", "38", "39"]
    );
    let ok = app::service::audit_export::verify(&export, None).unwrap();
    assert_eq!(ok.verified, 11);

    let csv = auditor
        .get(app.url("/api/v1/audit/export?format=csv"))
        .send()
        .await
        .unwrap();
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".csv"));
    let csv = csv.text().await.unwrap();
    let from_csv = app::service::audit_export::parse(&csv).unwrap();
    assert!(from_csv.entries.len() >= 41);
    app::service::audit_export::verify(&from_csv, Some(&export.checkpoint.public_key)).unwrap();

    // Offline, through the command line, with the key pinned; then a tampered copy.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.csv");
    std::fs::write(&file, &csv).unwrap();
    let run = |path: &std::path::Path, key: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["verify-audit", "--export"])
            .arg(path)
            .args(["--public-key", key])
            .output()
            .unwrap()
    };
    let out = run(&file, &export.checkpoint.public_key);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("export verified"));
    let tampered = dir.path().join("tampered.csv");
    std::fs::write(&tampered, csv.replacen("{\"\"i\"\":7}", "{\"\"i\"\":8}", 1)).unwrap();
    let out = run(&tampered, &export.checkpoint.public_key);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("export BROKEN: entry"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let other_key = hex::encode([7u8; 32]);
    let out = run(&file, &other_key);
    assert_eq!(out.status.code(), Some(2));

    let (s, v) = get(&auditor, &app, "/api/v1/audit/export?format=xml").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "format");
    let viewer = app.signed_in("vi", &[Role::Viewer]).await;
    let (s, _) = get(&viewer, &app, "/api/v1/audit/export").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// A proof in a tree the stored subtrees do not cover yet (entries appended since they were
/// last extended): the store extends them, then answers from them.
#[tokio::test]
async fn a_proof_past_the_stored_subtrees_extends_them_first() {
    use app::store::audit_tree;
    let app = spawn_app().await;
    append(&app, 40).await;
    audit_tree::extend(&app.pool).await.unwrap();
    let blocks = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_merkle WHERE level = 4")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = blocks().await;
    append(&app, 50).await;
    let size = audit_tree::log_size(&app.pool).await.unwrap();
    assert!(
        size >> 4 > before as u64,
        "{size} entries, {before} blocks stored"
    );
    let leaves = leaves(&app, size).await;
    let root = merkle::root(&leaves);
    for seq in [1, 7, 40, 41, size - 1, size] {
        let proof = audit_tree::inclusion_proof(&app.pool, seq, size)
            .await
            .unwrap()
            .unwrap();
        assert!(
            verify_inclusion(seq - 1, size, &leaves[(seq - 1) as usize], &proof, &root),
            "entry {seq} of {size}"
        );
    }
    assert_eq!(
        blocks().await as u64,
        size >> 4,
        "extended to the log's size"
    );
    assert_eq!(audit_tree::root_at(&app.pool, size).await.unwrap(), root);
    assert_eq!(
        audit_tree::inclusion_proof(&app.pool, size + 1, size)
            .await
            .unwrap(),
        None
    );
}
