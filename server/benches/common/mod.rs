//! A benchmark server: the real router on a port of 127.0.0.1 over a fresh store (SQLite, or
//! PostgreSQL with `GATEHOUSE_BENCH_DATABASE=postgres`, see `store`), and a scientist's API
//! token.

use std::net::SocketAddr;
use std::sync::Arc;

/// The running server.
pub struct BenchServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// A scientist's bearer token.
    #[allow(dead_code)]
    pub token: String,
    /// The store, for checks behind the API.
    #[allow(dead_code)]
    pub pool: app::store::Pool,
    _dir: tempfile::TempDir,
}

/// Starts the server with the given body limit.
pub async fn serve(max_body_bytes: usize) -> anyhow::Result<BenchServer> {
    let dir = tempfile::tempdir()?;
    let pool = crate::bench_store::open(&dir).await?;
    app::service::accounts::create_user(
        &pool,
        "bench",
        "sci",
        &[app::domain::roles::Role::Scientist],
        "benchmark password",
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let token = app::service::accounts::create_token(
        &pool,
        "bench",
        "sci",
        "bench",
        app::service::accounts::Issue::operator(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?
    .token;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = app::service::state::AppState {
        leptos_options: server::startup::leptos_options(Some(addr)),
        pool: pool.clone(),
        config: Arc::new(app::service::state::Config::default()),
        artifacts: app::service::artifact_store::ArtifactStore::scratch("bench")
            .expect("artifact store"),
    };
    let router = server::build_router(
        state,
        &server::ServeSettings {
            max_body_bytes,
            ..Default::default()
        },
    );
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    Ok(BenchServer {
        base: format!("http://{addr}"),
        token,
        pool,
        _dir: dir,
    })
}

/// Creates `username` with `role` and returns a browser-like client signed in as them.
#[allow(dead_code)]
pub async fn browser_as(
    pool: &app::store::Pool,
    base: &str,
    username: &str,
    role: app::domain::roles::Role,
) -> anyhow::Result<reqwest::Client> {
    let password = "benchmark password";
    app::service::accounts::create_user(pool, "bench", username, &[role], password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let browser = reqwest::Client::builder().cookie_store(true).build()?;
    let r = browser
        .post(format!("{base}/api/sign_in"))
        // A browser's sign-in form sends its origin; one without is refused (login CSRF).
        .header("origin", base)
        .form(&[("username", username), ("password", password)])
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "sign-in: {}", r.status());
    Ok(browser)
}

/// The `p` quantile of sorted timings, in milliseconds.
#[allow(dead_code, reason = "used by the benches that time requests")]
pub fn pct(sorted: &[std::time::Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

/// `n` GETs of `url` by `client`, each timed from sending to the whole body, and each body
/// checked to contain `expected`; the timings sorted.
#[allow(dead_code, reason = "used by the benches that time pages")]
pub async fn timed_gets(
    client: &reqwest::Client,
    url: &str,
    n: usize,
    expected: &str,
) -> anyhow::Result<Vec<std::time::Duration>> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        let r = client.get(url).send().await?;
        anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
        let body = r.text().await?;
        times.push(t.elapsed());
        anyhow::ensure!(
            body.contains(expected),
            "{url}: no {expected:?} in the page"
        );
    }
    times.sort();
    Ok(times)
}

/// The demo workspace's accounts and runs, and with `lineage` its lineage, as `server serve
/// --demo` seeds them.
#[allow(dead_code, reason = "used by the benches that time pages")]
pub async fn seed_demo(pool: &app::store::Pool, lineage: bool) -> anyhow::Result<()> {
    let state = app::service::state::AppState {
        leptos_options: server::startup::leptos_options(None),
        pool: pool.clone(),
        config: Arc::new(app::service::state::Config::default()),
        artifacts: app::service::artifact_store::ArtifactStore::scratch("bench-seed")
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let router = server::build_router(state, &server::ServeSettings::default());
    let e = |e: app::error::AppError| anyhow::anyhow!("seeding: {e}");
    // The benchmark's own account exists already, so the demo's accounts are made here.
    for (name, role) in app::service::demo::DEMO_USERS {
        app::service::accounts::create_user(pool, "system:demo", name, &[role], "demo password")
            .await
            .map_err(e)?;
    }
    server::demo::seed_tracking(&router, pool)
        .await
        .map_err(e)?;
    if lineage {
        server::demo::seed_lineage(&router, pool).await.map_err(e)?;
    }
    Ok(())
}
