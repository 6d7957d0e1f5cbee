//! `spawn_app`: the real router on port 0 with a fresh SQLite file per test.

#![allow(dead_code)]

use app::domain::roles::Role;
use app::service::artifact_store::ArtifactStore;
use app::service::state::{AppState, Config};
use app::store::Pool;
pub mod postgres;

use server::{build_router, open_store, ServeSettings};
use std::net::SocketAddr;
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub pool: Pool,
    pub db_url: String,
    pub db_path: std::path::PathBuf,
    pub artifacts_dir: std::path::PathBuf,
    store: ArtifactStore,
    _dir: tempfile::TempDir,
}

/// A free port on 127.0.0.1, for a process whose address must be known before it starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::default(), ServeSettings::default()).await
}

pub async fn spawn_app_with(config: Config, settings: ServeSettings) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let pool = open_test_store(&dir).await;
    serve_on(dir, pool, config, settings).await
}

/// Whether this run's stores are PostgreSQL databases (`GATEHOUSE_TEST_DATABASE=postgres`)
/// rather than SQLite files.
pub fn on_postgres() -> bool {
    std::env::var("GATEHOUSE_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// A fresh, migrated store for one test: an SQLite file in `dir`, or a new database on the
/// run's PostgreSQL cluster (with a signing key in `dir`, which PostgreSQL stores need named).
pub async fn open_test_store(dir: &tempfile::TempDir) -> Pool {
    if !on_postgres() {
        let url = format!(
            "sqlite://{}",
            dir.path().join("gatehouse-test.db").display()
        );
        return open_store(&url).await.expect("open store");
    }
    let url = postgres::Cluster::get().fresh_database().await;
    let pool = open_store(&url).await.expect("open store");
    let key = dir.path().join("audit-signing.key");
    app::service::signing::create_key_file(&key).expect("signing key");
    app::service::signing::use_key_file(&pool, &key).expect("use the signing key");
    pool
}

/// Serves the real router over `pool`, a store in `dir` (for stores opened with other options).
pub async fn serve_on(
    dir: tempfile::TempDir,
    pool: Pool,
    config: Config,
    settings: ServeSettings,
) -> TestApp {
    serve_with_store(dir, pool, config, settings, None).await
}

/// An app with the whole demo workspace seeded through the real router (runs, lineage, A/B
/// tests, fairness reports, the registry and its promotions).
pub async fn spawn_demo_app() -> TestApp {
    let app = spawn_app().await;
    app::service::demo::seed(&app.pool).await.unwrap();
    let router = app.router();
    server::demo::seed_tracking(&router, &app.pool)
        .await
        .unwrap();
    server::demo::seed_ab_tests(&router, &app.pool)
        .await
        .unwrap();
    server::demo::seed_fairness(&router, &app.pool)
        .await
        .unwrap();
    server::demo::seed_registry(&router, &app.pool)
        .await
        .unwrap();
    app
}

/// A fresh app whose artifacts live in `store` (an S3 bucket, say).
pub async fn spawn_app_on_store(store: ArtifactStore) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = open_test_store(&dir).await;
    serve_with_store(
        dir,
        pool,
        Config::default(),
        ServeSettings::default(),
        Some(store),
    )
    .await
}

async fn serve_with_store(
    dir: tempfile::TempDir,
    pool: Pool,
    mut config: Config,
    settings: ServeSettings,
    store: Option<ArtifactStore>,
) -> TestApp {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let db_path = dir.path().join("gatehouse-test.db");
    let db_url = match app::store::backend(&pool) {
        app::store::Backend::Sqlite => format!("sqlite://{}", db_path.display()),
        app::store::Backend::Postgres => pool.connect_options().database_url.to_string(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    if config.origins.is_empty() {
        config.origins = server::startup::browser_origins(None, addr).expect("origins");
    }
    let artifacts_dir = dir.path().join("artifacts");
    let store = match store {
        Some(s) => s,
        None => ArtifactStore::open(artifacts_dir.to_str().expect("utf-8 path"))
            .expect("artifact store"),
    };
    let state = AppState {
        leptos_options: server::startup::leptos_options(Some(addr)),
        pool: pool.clone(),
        config: Arc::new(config),
        artifacts: store.clone(),
    };
    let router = build_router(state, &settings);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    TestApp {
        base: format!("http://{addr}"),
        pool,
        db_url,
        db_path,
        artifacts_dir,
        store,
        _dir: dir,
    }
}

impl TestApp {
    /// The app's artifact store (a folder in its temporary directory).
    pub fn artifacts(&self) -> ArtifactStore {
        self.store.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A second router over the same database, for code that sends requests in-process (the
    /// demo seeding).
    pub fn router(&self) -> axum::Router {
        let state = AppState {
            leptos_options: server::startup::leptos_options(None),
            pool: self.pool.clone(),
            config: Arc::new(Config::default()),
            artifacts: self.artifacts(),
        };
        build_router(state, &ServeSettings::default())
    }

    /// A client that keeps cookies and does not follow redirects, and says where it comes
    /// from as a browser on this origin does.
    pub fn client(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ORIGIN,
            reqwest::header::HeaderValue::from_str(&self.base).expect("origin"),
        );
        self.client_with(headers)
    }

    /// As [`TestApp::client`], with these default headers instead (none: no Origin).
    pub fn client_with(&self, headers: reqwest::header::HeaderMap) -> reqwest::Client {
        reqwest::Client::builder()
            .default_headers(headers)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client")
    }

    pub async fn user(&self, name: &str, roles: &[Role]) {
        app::service::accounts::create_user(&self.pool, "test", name, roles, PASSWORD)
            .await
            .expect("create user");
    }

    /// Signs in through the server function, as the enhanced form does.
    pub async fn sign_in(&self, client: &reqwest::Client, name: &str) -> reqwest::Response {
        client
            .post(self.url("/api/sign_in"))
            .form(&[("username", name), ("password", PASSWORD)])
            .send()
            .await
            .expect("sign in request")
    }

    pub async fn signed_in(&self, name: &str, roles: &[Role]) -> reqwest::Client {
        self.user(name, roles).await;
        let c = self.client();
        let res = self.sign_in(&c, name).await;
        assert!(
            res.status().is_success(),
            "sign-in failed: {}",
            res.status()
        );
        c
    }

    pub async fn audit_actions(&self) -> Vec<(String, String, String)> {
        sqlx::query_as("SELECT actor, action, object_id FROM audit_log ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .expect("audit rows")
    }

    pub async fn audit_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log")
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }
}
