//! `server`: serve Gatehouse, migrate the database, manage users and tokens, verify the audit trail.

mod cli {
    pub(crate) mod args;
    pub(crate) mod commands;
    pub(crate) mod serve;
    pub(crate) mod sso_args;
}

use anyhow::Context;
use clap::Parser;
use cli::args::{Cli, Command, LogFormat};
use cli::commands;
use server::open_store;
use std::process::ExitCode;

fn init_tracing(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format, &cli.log_level);
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The verbs that need no database answer before one is opened (or created).
    match &cli.command {
        Some(Command::Layout { file, runs, out }) => {
            return commands::layout_command(file, *runs, out.as_deref());
        }
        Some(Command::ModelDigest { dir, manifest }) => {
            println!(
                "{}",
                server::artifacts_cli::model_digest_command(dir, *manifest)?
            );
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::VerifyAudit {
            export: Some(file),
            public_key,
        }) => return commands::verify_export_command(file, public_key.as_deref()),
        Some(Command::CreateSigningKey { file }) => return commands::create_signing_key(file),
        _ => {}
    }
    let pool = open_store(&cli.database_url).await?;
    let on_postgres = app::store::backend(&pool) == app::store::Backend::Postgres;
    if let Some(file) = &cli.audit_signing_key_file {
        app::service::signing::use_key_file(&pool, file)
            .with_context(|| format!("AUDIT_SIGNING_KEY_FILE {}", file.display()))?;
    }
    if matches!(cli.command, Some(Command::Migrate)) {
        let shown = app::domain::database_url::redacted(&cli.database_url);
        println!("migrations applied to {shown}");
        return Ok(ExitCode::SUCCESS);
    }
    let root = match cli.artifact_root.clone().filter(|r| !r.is_empty()) {
        Some(root) => root,
        // Several servers share a PostgreSQL store, and so must share its files.
        None if on_postgres => anyhow::bail!(
            "a PostgreSQL store needs ARTIFACT_ROOT: the folder or s3:// bucket every server shares"
        ),
        None => server::artifacts_cli::default_root(&cli.database_url),
    };
    let artifacts = app::service::artifact_store::ArtifactStore::open(&root)
        .map_err(|e| anyhow::anyhow!("artifact root: {e}"))?;
    match cli.command {
        None => cli::serve::serve(pool, artifacts, cli.serve).await,
        Some(Command::Serve(args)) => cli::serve::serve(pool, artifacts, args).await,
        Some(Command::VerifyArtifacts) => commands::verify_artifacts(&pool, &artifacts).await,
        // Answered above, before the artifact store was opened.
        Some(Command::Migrate) => Ok(ExitCode::SUCCESS),
        Some(Command::CreateUser {
            username,
            roles,
            password_stdin: _,
        }) => commands::create_user(&pool, &username, &roles).await,
        Some(Command::CreateToken {
            username,
            name,
            expires_in_days,
        }) => commands::create_token(&pool, &username, &name, expires_in_days).await,
        Some(Command::VerifyAudit { .. }) => commands::verify_audit(&pool).await,
        // Answered above, before the store was opened.
        Some(
            Command::ModelDigest { .. } | Command::Layout { .. } | Command::CreateSigningKey { .. },
        ) => Ok(ExitCode::SUCCESS),
    }
}
