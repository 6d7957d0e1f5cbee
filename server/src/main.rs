//! `server`: serve Gatehouse, migrate the database, manage users and tokens, verify the audit trail.

use anyhow::Context;
use app::domain::roles::{parse_roles, Role};
use app::service::state::{AppState, Config};
use app::service::{accounts, demo};
use app::store as db;
use clap::{Args, Parser, Subcommand, ValueEnum};
use server::{open_store, ServeSettings};
use std::io::Read;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "server",
    version,
    about = "Gatehouse: review what ML models reach production, and why"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    /// SQLite database URL; the file and its folder are created on first start.
    #[arg(long, env = "DATABASE_URL", default_value = db::DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    /// Log format: `pretty` for people, `json` for log collectors.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    log_format: LogFormat,
    /// Log level or tracing filter, e.g. `info` or `server=debug,sqlx=warn`.
    #[arg(long, env = "GATEHOUSE_LOG", default_value = "info", global = true)]
    log_level: String,
    /// Where run and model files are kept: a folder, or `s3://bucket/prefix` (credentials,
    /// region and endpoint from the usual AWS_* variables). Default: `artifacts/` beside the
    /// database file.
    #[arg(long, env = "ARTIFACT_ROOT", global = true)]
    artifact_root: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the web app and APIs (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Create a user; the password is read from standard input.
    CreateUser {
        /// User name.
        #[arg(long)]
        username: String,
        /// A role to grant; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Create an API token and print it, alone, on standard output: the operator's bootstrap
    /// path, recorded as issued by the operator, so the token may not approve, reject or waive
    /// (users create their own tokens for that).
    CreateToken {
        /// Owner of the token.
        #[arg(long)]
        username: String,
        /// Label, e.g. `ci-pipeline`.
        #[arg(long)]
        name: String,
        /// Days until the token stops working (no expiry when left out).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Recompute the audit hash chain and check the signed checkpoints; exits non-zero at the
    /// first bad entry. With `--export FILE`, verifies an exported file (JSON or CSV) offline
    /// instead: signature, entry hashes, inclusion proofs and chain links, no database needed.
    VerifyAudit {
        /// An export downloaded from `/api/v1/audit/export`.
        #[arg(long)]
        export: Option<std::path::PathBuf>,
        /// The Ed25519 public key (hex) to hold the export's signature to, as shown on the
        /// Audit page; without it the key inside the file is used and the output says so.
        #[arg(long, requires = "export")]
        public_key: Option<String>,
    },
    /// Recompute a model digest from a downloaded model folder (no database needed): prints
    /// `sha256:…`, the value a model version shows and the alias API answers.
    ModelDigest {
        /// The folder, e.g. from `mlflow.artifacts.download_artifacts("models:/NAME@production")`.
        dir: std::path::PathBuf,
        /// Print the manifest (path, size, SHA-256 per line) before the digest.
        #[arg(long)]
        manifest: bool,
    },
    /// Re-hash every finalized model's files in the artifact store and name each whose bytes
    /// no longer match its recorded manifest; exits 2 when any does.
    VerifyArtifacts,
    /// Time the lineage layout on a graph file (`{"nodes": [...], "edges": [[from, to], ...]}`)
    /// and print the time and the number of edge crossings. Needs no database.
    Layout {
        /// The graph, as JSON.
        file: std::path::PathBuf,
        /// Layouts to time (the median is printed).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Also write the layout as JSON: each node's id, box, layer and place in its layer,
        /// and each edge's polyline, so other tools can check the figures.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Args, Debug, Clone, Default)]
struct ServeArgs {
    /// Seed and show the demo workspace.
    #[arg(long, env = "GATEHOUSE_DEMO")]
    demo: bool,
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR")]
    addr: Option<SocketAddr>,
    /// The URL browsers reach Gatehouse at, e.g. `https://gatehouse.example.com` behind a load
    /// balancer. Browser writes and sign-ins must come from this origin, and cookies are
    /// `Secure` when it is https. Default: `http://` plus the listen address (and, on a
    /// loopback address, `localhost` with the same port).
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Mark cookies `Secure` even when the public URL is http (TLS ended in front of a proxy
    /// that rewrites the scheme); https public URLs set it by themselves.
    #[arg(long, env = "GATEHOUSE_COOKIE_SECURE")]
    cookie_secure: bool,
    /// Session lifetime in minutes, however active.
    #[arg(long, env = "GATEHOUSE_SESSION_MINUTES", default_value_t = 720)]
    session_minutes: u64,
    /// The header a trusted reverse proxy (load balancer) puts the client's address in, such
    /// as `X-Forwarded-For` (its last entry is used) or `X-Real-IP`. Only set it when every
    /// request comes through that proxy: otherwise clients could claim any address. Without
    /// it, sign-in throttling per address uses the connection's peer address.
    #[arg(long, env = "GATEHOUSE_CLIENT_IP_HEADER")]
    client_ip_header: Option<String>,
    /// A bearer secret a Prometheus scraper may read `/metrics` with (auditors' and admins'
    /// tokens may too).
    #[arg(long, env = "GATEHOUSE_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Also serve `/metrics`, without authentication, on this address (one only the
    /// monitoring network reaches), e.g. `127.0.0.1:9100`.
    #[arg(long, env = "GATEHOUSE_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "GATEHOUSE_SESSION_IDLE_MINUTES", default_value_t = 120)]
    session_idle_minutes: u64,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "GATEHOUSE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// Largest fairness upload in bytes as sent (gzip or not); uploads are streamed, so this
    /// bounds time, not memory.
    #[arg(long, env = "GATEHOUSE_MAX_UPLOAD_BYTES", default_value_t = server::startup::DEFAULT_MAX_UPLOAD_BYTES)]
    max_upload_bytes: usize,
    /// Most bytes of CSV text an upload may inflate to (a gzip bomb stops here with 413).
    #[arg(long, env = "GATEHOUSE_MAX_INFLATED_BYTES", default_value_t = 1 << 30)]
    max_inflated_bytes: u64,
    /// Longest row of an uploaded CSV, in bytes.
    #[arg(long, env = "GATEHOUSE_MAX_ROW_BYTES", default_value_t = 64 * 1024)]
    max_row_bytes: usize,
    /// Largest artifact one upload may store, in bytes (streamed: this bounds disk, not memory).
    #[arg(long, env = "GATEHOUSE_MAX_ARTIFACT_BYTES", default_value_t = 64 << 30)]
    max_artifact_bytes: u64,
}

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

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The layout timer needs no database: answer before opening (or creating) one.
    if let Some(Command::Layout { file, runs, out }) = &cli.command {
        return layout_command(file, *runs, out.as_deref());
    }
    if let Some(Command::ModelDigest { dir, manifest }) = &cli.command {
        println!(
            "{}",
            server::artifacts_cli::model_digest_command(dir, *manifest)?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(Command::VerifyAudit {
        export: Some(file),
        public_key,
    }) = &cli.command
    {
        return verify_export_command(file, public_key.as_deref());
    }
    let pool = open_store(&cli.database_url).await?;
    let root = cli
        .artifact_root
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| server::artifacts_cli::default_root(&cli.database_url));
    let artifacts = app::service::artifact_store::ArtifactStore::open(&root)
        .map_err(|e| anyhow::anyhow!("artifact root: {e}"))?;
    match cli.command {
        None => serve(pool, artifacts, cli.serve).await,
        Some(Command::Serve(args)) => serve(pool, artifacts, args).await,
        Some(Command::VerifyArtifacts) => {
            let v = server::artifacts_cli::verify_artifacts(&pool, &artifacts).await?;
            if v.broken.is_empty() {
                println!(
                    "artifacts OK: {} finalized model(s) in {} match their digests",
                    v.checked,
                    artifacts.location()
                );
                Ok(ExitCode::SUCCESS)
            } else {
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
        }
        Some(Command::ModelDigest { .. }) => Ok(ExitCode::SUCCESS),
        Some(Command::Migrate) => {
            println!("migrations applied to {}", cli.database_url);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::CreateUser {
            username,
            roles,
            password_stdin: _,
        }) => {
            let roles: Vec<Role> = parse_roles(roles.iter().map(String::as_str))
                .map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.strip_suffix('\n').unwrap_or(&password);
            let password = password.strip_suffix('\r').unwrap_or(password);
            accounts::create_user(&pool, "system:cli", &username, &roles, password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("created user {username}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::CreateToken {
            username,
            name,
            expires_in_days,
        }) => {
            let issue = accounts::Issue {
                by_owner: false,
                expires_in_days,
            };
            let created = accounts::create_token(&pool, "system:cli", &username, &name, issue)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", created.token);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::VerifyAudit { .. }) => {
            let report = db::audit::verify(&pool).await?;
            db::home::record_verification(&pool, "operator", &report).await?;
            if report.ok {
                println!(
                    "audit trail intact: {} entries verified, {} signed checkpoints match, head hash {}, Merkle root {}",
                    report.verified, report.checkpoints_verified, report.head_hash, report.merkle_root
                );
                Ok(ExitCode::SUCCESS)
            } else {
                match report.first_bad_seq {
                    Some(seq) => println!(
                        "audit trail BROKEN at sequence number {seq}: {}",
                        report.message
                    ),
                    None => println!("audit trail BROKEN: {}", report.message),
                }
                Ok(ExitCode::from(2))
            }
        }
        Some(Command::Layout { file, runs, out }) => layout_command(&file, runs, out.as_deref()),
    }
}

fn verify_export_command(file: &std::path::Path, key: Option<&str>) -> anyhow::Result<ExitCode> {
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

fn layout_command(
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

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
async fn serve(
    pool: sqlx::SqlitePool,
    artifacts: app::service::artifact_store::ArtifactStore,
    args: ServeArgs,
) -> anyhow::Result<ExitCode> {
    if args.demo {
        if demo::seed(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo data: {e}"))?
        {
            tracing::info!("demo workspace created");
        }
    } else if let Some(password) = accounts::bootstrap_admin(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        tracing::warn!(
            "first start: created user `admin` with password `{password}`; this is the only time it is shown, change it after signing in"
        );
    }
    let options = server::startup::leptos_options(args.addr);
    let addr = options.site_addr;
    let origins = server::startup::browser_origins(args.public_url.as_deref(), addr)?;
    let config = Config {
        demo: args.demo,
        cookie_secure: args.cookie_secure || origins[0].starts_with("https://"),
        origins,
        session_ttl: Duration::from_secs(args.session_minutes.max(1) * 60),
        session_idle: Duration::from_secs(args.session_idle_minutes.max(1) * 60),
        client_ip_header: args
            .client_ip_header
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_ascii_lowercase),
        max_artifact_bytes: args.max_artifact_bytes,
        ..Config::default()
    };
    let throttle = config.throttle;
    tracing::info!(public_url = %config.origins[0], secure_cookies = config.cookie_secure, "browser origin");
    let state = AppState {
        leptos_options: options,
        pool: pool.clone(),
        config: Arc::new(config),
        artifacts,
    };
    let metrics = std::sync::Arc::new(server::metrics::Metrics::default());
    let router = server::startup::build_router_with_metrics(
        state,
        &ServeSettings {
            metrics_token: args.metrics_token.clone(),
            max_body_bytes: args.max_body_bytes,
            max_upload_bytes: args.max_upload_bytes,
            upload_limits: app::service::fairness::Limits {
                max_inflated_bytes: args.max_inflated_bytes,
                max_row_bytes: args.max_row_bytes.max(1024),
            },
        },
        metrics.clone(),
    );
    if let Some(maddr) = args.metrics_addr {
        let listener = tokio::net::TcpListener::bind(maddr)
            .await
            .with_context(|| format!("binding the metrics address {maddr}"))?;
        tracing::info!("metrics on http://{maddr}/metrics");
        let app = server::startup::metrics_only_router(metrics);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    if args.demo {
        server::demo::seed_tracking(&router, &pool)
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo runs: {e}"))?;
        server::demo::seed_lineage(&router, &pool)
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo lineage: {e}"))?;
        server::demo::seed_ab_tests(&router, &pool)
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo A/B tests: {e}"))?;
        server::demo::seed_fairness(&router, &pool)
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo fairness reports: {e}"))?;
        server::demo::seed_registry(&router, &pool)
            .await
            .map_err(|e| anyhow::anyhow!("seeding the demo registry: {e}"))?;
    }

    // The audit signing key is created on first start, beside the database.
    let key = app::service::signing::key_for(&pool).with_context(|| {
        format!(
            "creating or reading {}",
            app::service::signing::key_path(&pool).display()
        )
    })?;
    tracing::info!(
        public_key = %app::service::signing::public_key_hex(&key),
        "audit checkpoints are signed with this Ed25519 key"
    );
    // Each minute: stale promotion requests expire (audited), and a signed checkpoint of the
    // audit trail is made if it has grown.
    let signer = pool.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match app::service::promotions::expire(&signer).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "stale promotion requests expired"),
                Err(e) => tracing::warn!(error = %e, "expiring promotion requests failed"),
            }
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            match app::service::sign_in_throttle::report_failed_sign_ins(&signer, throttle, now)
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(windows = n, "failed sign-ins reported to the audit trail"),
                Err(e) => tracing::warn!(error = %e, "reporting failed sign-ins failed"),
            }
            if let Err(e) = app::service::signing::checkpoint_now(&signer).await {
                tracing::warn!(error = %e, "signing an audit checkpoint failed");
            }
        }
    });

    // Expired sessions are removed hourly; reads already ignore them.
    let sweeper = pool.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = db::sessions::purge_expired(&sweeper, &app::service::now_ts()).await {
                tracing::warn!(error = %e, "purging expired sessions failed");
            }
        }
    });

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!("listening on http://{addr}");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
