//! `server serve`: seed the demo or the first admin, build the router, start the periodic jobs
//! and listen.

use super::args::ServeArgs;
use anyhow::Context;
use app::service::state::{AppState, Config};
use app::service::{accounts, demo, jobs};
use server::ServeSettings;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub(crate) async fn serve(
    pool: app::store::Pool,
    artifacts: app::service::artifact_store::ArtifactStore,
    args: ServeArgs,
) -> anyhow::Result<ExitCode> {
    first_start(&pool, args.demo).await?;
    let options = server::startup::leptos_options(args.addr);
    let addr = options.site_addr;
    let origins = server::startup::browser_origins(args.public_url.as_deref(), addr)?;
    let config = config_from(&args, origins)?;
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
        state.clone(),
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
        seed_demo_through_api(&router, &pool).await?;
    }

    // The audit signing key is created on first start, beside the database.
    let key =
        app::service::signing::key_for(&pool).with_context(
            || match app::service::signing::key_path(&pool) {
                Ok(path) => format!("creating or reading {}", path.display()),
                Err(_) => "the audit signing key".to_owned(),
            },
        )?;
    tracing::info!(
        public_key = %app::service::signing::public_key_hex(&key),
        "audit checkpoints are signed with this Ed25519 key"
    );
    let holder = jobs::holder_id();
    spawn_periodic_jobs(&pool, throttle, &holder);
    server::webhooks::delivery::spawn(&state, holder.clone())?;

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!("listening on http://{addr}");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    jobs::release_all(&pool, &holder).await;
    server::webhooks::delivery::release(&pool, &holder).await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM as a service manager or orchestrator stops a server.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The demo workspace when asked for and not yet there; otherwise, on the very first start,
/// the `admin` account with a password shown once in the log.
async fn first_start(pool: &app::store::Pool, demo: bool) -> anyhow::Result<()> {
    if demo {
        if demo::seed(pool)
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo data: {e}"))?
        {
            tracing::info!("demo workspace created");
        }
    } else if let Some(password) = accounts::bootstrap_admin(pool)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        tracing::warn!(
            "first start: created user `admin` with password `{password}`; this is the only time it is shown, change it after signing in"
        );
    }
    Ok(())
}

/// The server's settings from its arguments and the browser origins.
fn config_from(args: &ServeArgs, origins: Vec<String>) -> anyhow::Result<Config> {
    let allowed = app::domain::webhooks::address::Allowed::parse(&args.webhook_allowed_networks)
        .map_err(|e| anyhow::anyhow!("--webhook-allowed-networks: {e}"))?;
    let webhooks = app::service::state::WebhookSettings {
        allowed,
        schedule: app::domain::webhooks::retry::Schedule {
            base: Duration::from_millis(args.webhook_retry_ms.max(1)),
            max_attempts: args.webhook_max_attempts.max(1),
            ..Default::default()
        },
    };
    Ok(Config {
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
        webhooks,
        sso: args.sso.settings()?,
        ..Config::default()
    })
}

/// The demo's runs, lineage, A/B tests, fairness reports and registry, sent through the
/// router as clients would send them.
async fn seed_demo_through_api(
    router: &axum::Router,
    pool: &app::store::Pool,
) -> anyhow::Result<()> {
    let pool = pool.clone();
    server::demo::seed_tracking(router, &pool)
        .await
        .map_err(|e| anyhow::anyhow!("seeding demo runs: {e}"))?;
    server::demo::seed_lineage(router, &pool)
        .await
        .map_err(|e| anyhow::anyhow!("seeding demo lineage: {e}"))?;
    server::demo::seed_ab_tests(router, &pool)
        .await
        .map_err(|e| anyhow::anyhow!("seeding demo A/B tests: {e}"))?;
    server::demo::seed_fairness(router, &pool)
        .await
        .map_err(|e| anyhow::anyhow!("seeding demo fairness reports: {e}"))?;
    server::demo::seed_registry(router, &pool)
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo registry: {e}"))?;
    Ok(())
}

/// The periodic jobs (`app::service::jobs`), each tick run here only while this server holds
/// the job's lease, so they run once across the servers of one database.
fn spawn_periodic_jobs(
    pool: &app::store::Pool,
    throttle: app::domain::throttle::Policy,
    holder: &str,
) {
    let (minute_pool, minute_holder) = (pool.clone(), holder.to_owned());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(jobs::MINUTE);
        loop {
            tick.tick().await;
            jobs::minute(&minute_pool, throttle, &minute_holder).await;
        }
    });
    let (hour_pool, hour_holder) = (pool.clone(), holder.to_owned());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(jobs::HOUR);
        loop {
            tick.tick().await;
            jobs::hourly(&hour_pool, &hour_holder).await;
        }
    });
}
