//! The command line: global options, the verbs, and what `serve` takes (each also from its
//! environment variable).

use app::store as db;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;

#[derive(Parser, Debug)]
#[command(
    name = "server",
    version,
    about = "Gatehouse: review what ML models reach production, and why"
)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Cli {
    /// Database URL: `sqlite://path` (the file and its folder are created on first start) or
    /// `postgres://user:password@host:port/database` (several servers may share it).
    #[arg(long, env = "DATABASE_URL", default_value = db::DEFAULT_DATABASE_URL, global = true)]
    pub(crate) database_url: String,
    /// Log format: `pretty` for people, `json` for log collectors.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub(crate) log_format: LogFormat,
    /// Log level or tracing filter, e.g. `info` or `server=debug,sqlx=warn`.
    #[arg(long, env = "GATEHOUSE_LOG", default_value = "info", global = true)]
    pub(crate) log_level: String,
    /// Where run and model files are kept: a folder, or `s3://bucket/prefix` (credentials,
    /// region and endpoint from the usual AWS_* variables). Default: `artifacts/` beside the
    /// database file.
    #[arg(long, env = "ARTIFACT_ROOT", global = true)]
    pub(crate) artifact_root: Option<String>,
    /// The file holding the audit checkpoint signing key (made with `create-signing-key`).
    /// It must exist; give every server of one database the same file. Default:
    /// `audit-signing.key` beside the database file, created on first start.
    #[arg(long, env = "AUDIT_SIGNING_KEY_FILE", global = true)]
    pub(crate) audit_signing_key_file: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) serve: ServeArgs,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Pretty,
    Json,
}

#[derive(Subcommand, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once at start-up; the size of `serve`'s options costs nothing"
)]
pub(crate) enum Command {
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
    /// Create an audit checkpoint signing key in a new file (mode 0600; an existing file is
    /// never overwritten) and print its public key, to name in `AUDIT_SIGNING_KEY_FILE`.
    CreateSigningKey {
        /// The file to create.
        file: std::path::PathBuf,
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
pub(crate) struct ServeArgs {
    /// Seed and show the demo workspace.
    #[arg(long, env = "GATEHOUSE_DEMO")]
    pub(crate) demo: bool,
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR")]
    pub(crate) addr: Option<SocketAddr>,
    /// The URL browsers reach Gatehouse at, e.g. `https://gatehouse.example.com` behind a load
    /// balancer. Browser writes and sign-ins must come from this origin, and cookies are
    /// `Secure` when it is https. Default: `http://` plus the listen address (and, on a
    /// loopback address, `localhost` with the same port).
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    pub(crate) public_url: Option<String>,
    /// Mark cookies `Secure` even when the public URL is http (TLS ended in front of a proxy
    /// that rewrites the scheme); https public URLs set it by themselves.
    #[arg(long, env = "GATEHOUSE_COOKIE_SECURE")]
    pub(crate) cookie_secure: bool,
    /// Session lifetime in minutes, however active.
    #[arg(long, env = "GATEHOUSE_SESSION_MINUTES", default_value_t = 720)]
    pub(crate) session_minutes: u64,
    /// The header a trusted reverse proxy (load balancer) puts the client's address in, such
    /// as `X-Forwarded-For` (its last entry is used) or `X-Real-IP`. Only set it when every
    /// request comes through that proxy: otherwise clients could claim any address. Without
    /// it, sign-in throttling per address uses the connection's peer address.
    #[arg(long, env = "GATEHOUSE_CLIENT_IP_HEADER")]
    pub(crate) client_ip_header: Option<String>,
    /// A bearer secret a Prometheus scraper may read `/metrics` with (auditors' and admins'
    /// tokens may too).
    #[arg(long, env = "GATEHOUSE_METRICS_TOKEN", hide_env_values = true)]
    pub(crate) metrics_token: Option<String>,
    /// Also serve `/metrics`, without authentication, on this address (one only the
    /// monitoring network reaches), e.g. `127.0.0.1:9100`.
    #[arg(long, env = "GATEHOUSE_METRICS_ADDR")]
    pub(crate) metrics_addr: Option<SocketAddr>,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "GATEHOUSE_SESSION_IDLE_MINUTES", default_value_t = 120)]
    pub(crate) session_idle_minutes: u64,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "GATEHOUSE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub(crate) max_body_bytes: usize,
    /// Largest fairness upload in bytes as sent (gzip or not); uploads are streamed, so this
    /// bounds time, not memory.
    #[arg(long, env = "GATEHOUSE_MAX_UPLOAD_BYTES", default_value_t = server::startup::DEFAULT_MAX_UPLOAD_BYTES)]
    pub(crate) max_upload_bytes: usize,
    /// Most bytes of CSV text an upload may inflate to (a gzip bomb stops here with 413).
    #[arg(long, env = "GATEHOUSE_MAX_INFLATED_BYTES", default_value_t = 1 << 30)]
    pub(crate) max_inflated_bytes: u64,
    /// Longest row of an uploaded CSV, in bytes.
    #[arg(long, env = "GATEHOUSE_MAX_ROW_BYTES", default_value_t = 64 * 1024)]
    pub(crate) max_row_bytes: usize,
    /// Largest artifact one upload may store, in bytes (streamed: this bounds disk, not memory).
    #[arg(long, env = "GATEHOUSE_MAX_ARTIFACT_BYTES", default_value_t = 64 << 30)]
    pub(crate) max_artifact_bytes: u64,
    /// Networks webhooks may reach although they are not public, comma-separated
    /// (`10.20.0.0/16,127.0.0.1`). Loopback, private and link-local addresses are refused
    /// otherwise, so webhooks cannot be aimed at the services beside Gatehouse.
    #[arg(long, env = "GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS", default_value = "")]
    pub(crate) webhook_allowed_networks: String,
    /// Attempts at a webhook delivery before it is dead (and waits for an admin to send it
    /// again).
    #[arg(long, env = "GATEHOUSE_WEBHOOK_MAX_ATTEMPTS", default_value_t = 16)]
    pub(crate) webhook_max_attempts: u32,
    /// The wait after a delivery's first failed attempt, in milliseconds; it doubles with each
    /// further one, up to ten minutes.
    #[arg(long, env = "GATEHOUSE_WEBHOOK_RETRY_MS", default_value_t = 5000)]
    pub(crate) webhook_retry_ms: u64,
    /// Single sign-on through an OpenID Connect provider.
    #[command(flatten)]
    pub(crate) sso: super::sso_args::SsoArgs,
}
