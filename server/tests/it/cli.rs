//! The `server` command line, run as a real process against a temporary database.

use std::io::Write;
use std::process::{Command, Stdio};

fn server(db: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", db)
        .env("GATEHOUSE_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

#[test]
fn users_tokens_and_verification_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("nested/cli.db").display());

    let out = server(&db, &["migrate"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = server(
        &db,
        &[
            "create-user",
            "--username",
            "ops",
            "--role",
            "auditor",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = server(
        &db,
        &[
            "create-user",
            "--username",
            "ops2",
            "--role",
            "wizard",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wizard"));

    let out = server(
        &db,
        &["create-token", "--username", "ops", "--name", "cron"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "the token alone: {stdout:?}");
    assert!(lines[0].starts_with("gh_") && lines[0].len() > 40);

    let out = server(&db, &["verify-audit"], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 entries verified"));

    // Tamper through a raw connection without the guard triggers.
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            use sqlx::Connection;
            let mut conn = app::store::Conn::connect(&db).await.unwrap();
            sqlx::query("DROP TRIGGER audit_log_no_update")
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        });
    let out = server(&db, &["verify-audit"], None);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sequence number 2"), "{text}");
}

#[test]
fn layout_times_a_graph_file_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.json");
    // A 4-cycle plus a chord: one edge must be reversed, and the square crosses nothing.
    std::fs::write(
        &file,
        r#"{"nodes": ["a", "b", {"id": "c"}, "d"], "edges": [["a", "b"], ["b", "c"], {"source": "c", "target": "d"}, [3, 0], ["a", "c"]]}"#,
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("never.db").display());
    let out = server(
        &db,
        &["layout", file.to_str().unwrap(), "--runs", "3"],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with("4 nodes, 5 edges: layout median ")
            && text.contains(" 0 crossings")
            && text.contains("1 edges reversed"),
        "{text}"
    );
    assert!(
        !dir.path().join("never.db").exists(),
        "no database is created"
    );

    // --out writes every node's box, layer and place in it, and every edge's polyline.
    let positions = dir.path().join("positions.json");
    let out = server(
        &db,
        &[
            "layout",
            file.to_str().unwrap(),
            "--runs",
            "1",
            "--out",
            positions.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&positions).unwrap()).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4);
    let node = |id: &str| nodes.iter().find(|n| n["id"] == id).unwrap().clone();
    // a → b → c → d left to right (d → a is the reversed edge), one node per layer here.
    let layers: Vec<u64> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| node(id)["layer"].as_u64().unwrap())
        .collect();
    assert!(layers.windows(2).all(|w| w[0] < w[1]), "{layers:?}");
    assert!(nodes
        .iter()
        .all(|n| n["width"].as_f64().unwrap() > 0.0 && n["order"].is_u64()));
    let edges = v["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 5);
    assert_eq!(edges.iter().filter(|e| e["reversed"] == true).count(), 1);
    let ab = edges
        .iter()
        .find(|e| e["source"] == "a" && e["target"] == "b")
        .unwrap();
    let first = &ab["points"][0];
    let a = node("a");
    assert_eq!(
        first[0].as_f64().unwrap(),
        a["x"].as_f64().unwrap() + a["width"].as_f64().unwrap(),
        "edges leave from the right side"
    );
    assert_eq!(v["crossings"], 0);

    std::fs::write(&file, r#"{"nodes": ["a"], "edges": [["a", "zz"]]}"#).unwrap();
    let out = server(&db, &["layout", file.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown node zz"));
}

#[test]
fn a_database_url_of_another_kind_is_refused_not_taken_for_a_file_name() {
    let dir = tempfile::tempdir().unwrap();
    for verb in ["migrate", "verify-audit"] {
        let out = Command::new(env!("CARGO_BIN_EXE_server"))
            .arg(verb)
            .current_dir(dir.path())
            .env(
                "DATABASE_URL",
                "mysql://app:s3cret@127.0.0.1:3306/gatehouse",
            )
            .env("GATEHOUSE_LOG", "warn")
            .output()
            .expect("run server");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{verb}: {stdout}");
        assert!(!stdout.contains("migrations applied"), "{verb}: {stdout}");
        assert!(
            stderr.contains("the scheme 'mysql' is not supported")
                && stderr.contains("sqlite://")
                && stderr.contains("postgres://"),
            "{verb}: {stderr}"
        );
        assert!(
            !stderr.contains("s3cret"),
            "the password is never shown: {stderr}"
        );
        assert!(
            stderr.contains("mysql://app:***@127.0.0.1:3306/gatehouse"),
            "{stderr}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing was created: {left:?}");

    let out = server("data/plain.db", &["migrate"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no scheme"));
}

#[test]
fn migrate_names_the_database_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let out = server(&db, &["migrate"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("migrations applied to {db}")
    );
}

#[tokio::test]
async fn a_named_signing_key_file_signs_the_checkpoints_and_is_never_made_up() {
    use app::service::signing;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("k.db").display());
    let key = dir.path().join("shared.key");
    let key_arg = key.to_str().unwrap();

    let out = server(&db, &["create-signing-key", key_arg], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(public.len(), 64, "the public key in hex: {public}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let again = server(&db, &["create-signing-key", key_arg], None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwritten"));

    // A server given the file signs with it, not with a key of its own beside the database.
    let pool = server::open_store(&db).await.unwrap();
    signing::use_key_file(&pool, &key).unwrap();
    app::service::accounts::create_user(
        &pool,
        "test",
        "ops",
        &[app::domain::roles::Role::Admin],
        "a long enough password",
    )
    .await
    .unwrap();
    let c = signing::checkpoint_now(&pool)
        .await
        .unwrap()
        .expect("a checkpoint");
    let public_key = signing::parse_public_key(&public).unwrap();
    assert!(signing::verify_checkpoint(&public_key, &c));
    assert_eq!(c.key_id, signing::key_id(&public_key));
    assert!(!dir.path().join(signing::KEY_FILE).exists());

    // A named file that is not there stops the server rather than making a new key.
    let missing = dir.path().join("missing.key");
    let out = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("migrate")
        .env("DATABASE_URL", &db)
        .env("AUDIT_SIGNING_KEY_FILE", &missing)
        .env("GATEHOUSE_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AUDIT_SIGNING_KEY_FILE") && stderr.contains("missing.key"),
        "{stderr}"
    );
    assert!(!missing.exists());
}
