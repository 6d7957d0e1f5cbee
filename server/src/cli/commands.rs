//! The one-shot verbs beside `serve`: users and tokens, the audit trail and artifact checks on
//! the store, and the offline checks of an audit export and a layout file.

use anyhow::Context;
use app::domain::roles::{parse_roles, Role};
use app::service::accounts;
use app::service::artifact_store::ArtifactStore;
use app::store as db;
use app::store::Pool;
use std::io::Read;
use std::process::ExitCode;

/// `verify-artifacts`: re-hashes every finalized model's files; exit 2 when any differs.
pub(crate) async fn verify_artifacts(
    pool: &Pool,
    artifacts: &ArtifactStore,
) -> anyhow::Result<ExitCode> {
    let v = server::artifacts_cli::verify_artifacts(pool, artifacts).await?;
    if v.broken.is_empty() {
        println!(
            "artifacts OK: {} finalized model(s) in {} match their digests",
            v.checked,
            artifacts.location()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for b in &v.broken {
        println!("MISMATCH {b}");
    }
    println!(
        "artifacts BROKEN: {} of {} finalized model(s) no longer match",
        v.broken.len(),
        v.checked
    );
    Ok(ExitCode::from(2))
}

/// `create-user`: the password comes from standard input, one trailing line end dropped.
pub(crate) async fn create_user(
    pool: &Pool,
    username: &str,
    roles: &[String],
) -> anyhow::Result<ExitCode> {
    let roles: Vec<Role> = parse_roles(roles.iter().map(String::as_str))
        .map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    let password = password.strip_suffix('\n').unwrap_or(&password);
    let password = password.strip_suffix('\r').unwrap_or(password);
    accounts::create_user(pool, "system:cli", username, &roles, password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("created user {username}");
    Ok(ExitCode::SUCCESS)
}

/// `create-token`: prints the new token alone, issued by the operator (so it may not review).
pub(crate) async fn create_token(
    pool: &Pool,
    username: &str,
    name: &str,
    expires_in_days: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let issue = accounts::Issue {
        by_owner: false,
        expires_in_days,
    };
    let created = accounts::create_token(pool, "system:cli", username, name, issue)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", created.token);
    Ok(ExitCode::SUCCESS)
}

/// `verify-audit` on the store: the chain and the signed checkpoints, recorded as a
/// verification by the operator; exit 2 at the first bad entry.
pub(crate) async fn verify_audit(pool: &Pool) -> anyhow::Result<ExitCode> {
    let report = db::audit::verify(pool).await?;
    app::service::record_verification(pool, "operator", &report)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if report.ok {
        println!(
            "audit trail intact: {} entries verified, {} signed checkpoints match, head hash {}, Merkle root {}",
            report.verified, report.checkpoints_verified, report.head_hash, report.merkle_root
        );
        return Ok(ExitCode::SUCCESS);
    }
    match report.first_bad_seq {
        Some(seq) => println!(
            "audit trail BROKEN at sequence number {seq}: {}",
            report.message
        ),
        None => println!("audit trail BROKEN: {}", report.message),
    }
    Ok(ExitCode::from(2))
}

/// `create-signing-key FILE`: a new key in a new file; prints the public key (hex).
pub(crate) fn create_signing_key(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let key = app::service::signing::create_key_file(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            anyhow::anyhow!(
                "{} exists: a signing key is never overwritten",
                file.display()
            )
        }
        _ => anyhow::anyhow!("creating {}: {e}", file.display()),
    })?;
    println!("{}", app::service::signing::public_key_hex(&key));
    Ok(ExitCode::SUCCESS)
}

/// `verify-audit --export FILE`: the export checked offline, no database needed.
pub(crate) fn verify_export_command(
    file: &std::path::Path,
    key: Option<&str>,
) -> anyhow::Result<ExitCode> {
    use app::service::audit_export;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let export = match audit_export::parse(&text) {
        Ok(e) => e,
        Err(e) => {
            println!("export UNREADABLE: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    match audit_export::verify(&export, key) {
        Ok(c) => {
            println!(
                "export verified: {} entries, each included in the signed checkpoint of {} entries (root {}){}",
                c.verified,
                c.tree_size,
                c.root_hash,
                if c.key_pinned {
                    ", signed by the key given"
                } else {
                    "; signed by the key inside the file: pass --public-key to hold it to the key on the Audit page"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("export BROKEN: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

/// `layout FILE`: times the lineage layout and prints its figures, optionally the positions.
pub(crate) fn layout_command(
    file: &std::path::Path,
    runs: usize,
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let g = server::layout_cli::parse_graph(&v)?;
    let (l, median) = server::layout_cli::time_layout(&g, runs);
    println!("{}", server::layout_cli::report(&g, &l, median));
    if let Some(out) = out {
        let json = server::layout_cli::positions(&g, &l);
        std::fs::write(out, serde_json::to_vec_pretty(&json)?)
            .with_context(|| format!("writing {}", out.display()))?;
        println!("positions written to {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
