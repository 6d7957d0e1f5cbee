//! A throwaway PostgreSQL server for the tests: a cluster made with `initdb` in a temporary
//! folder and served on a free 127.0.0.1 port, one per test process, with a fresh database per
//! test. Debian's `postgresql` package provides the programs (`make setup-test` installs it).
//!
//! `initdb` refuses to run as root (CI does): the cluster then runs as the `postgres` system
//! user. The server is this process's child and is told to stop when the process ends
//! (`PR_SET_PDEATHSIG`), so a failed or interrupted run leaves no server and no files behind.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The test process's cluster.
pub struct Cluster {
    port: u16,
    /// Removed by the server's shell when the process ends.
    _dir: PathBuf,
}

/// The newest installed PostgreSQL's programs.
fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed (/usr/lib/postgresql): run `make setup-test`")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, p)| p.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("no PostgreSQL with initdb under /usr/lib/postgresql")
        .1
}

/// The user and group to run the cluster as: the `postgres` user when this is root.
fn run_as() -> Option<(u32, u32)> {
    let me = Command::new("id").arg("-u").output().expect("id -u");
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("id postgres");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("the postgres user (from Debian's postgresql package)")
    };
    Some((id("-u"), id("-g")))
}

fn command(program: &Path, user: Option<(u32, u32)>) -> Command {
    let mut c = Command::new(program);
    if let Some((uid, gid)) = user {
        c.uid(uid).gid(gid);
    }
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts `postgres` on `data`, listening on 127.0.0.1:`port` (its socket in `socket_dir`).
fn serve(
    postgres: PathBuf,
    data: PathBuf,
    port: u16,
    socket_dir: PathBuf,
    user: Option<(u32, u32)>,
    log: std::fs::File,
) {
    // Tests need no durability; benchmarks measure PostgreSQL as it would run, with fsync on
    // and commits not waiting for their flush (as SQLite's WAL with synchronous=NORMAL).
    let durable = std::env::var_os("GATEHOUSE_BENCH_DATABASE").is_some();
    let fsync = if durable { "fsync=on" } else { "fsync=off" };
    let pages = if durable {
        "full_page_writes=on"
    } else {
        "full_page_writes=off"
    };
    // A shell runs the server and, when this process ends (the parent-death signal), stops
    // it at once and removes the cluster's folder: the `TempDir` of a static is never
    // dropped. Spawned from a thread that never ends, as the signal follows the thread
    // that forked, not the process.
    std::thread::spawn(move || {
        let mut c = command(Path::new("/bin/sh"), user);
        c.arg("-c")
            .arg(
                "trap 'kill -QUIT $pid; wait $pid; rm -rf \"$DIR\"' TERM; \
                     \"$@\" & pid=$!; wait $pid",
            )
            .arg("sh")
            .arg(&postgres)
            .arg("-D")
            .arg(&data)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
            .arg(&socket_dir)
            .args(["-c", fsync, "-c", "synchronous_commit=off", "-c", pages])
            .args(["-c", "max_connections=400"])
            .env("DIR", &socket_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            c.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = c.spawn().expect("start postgres");
        let _ = child.wait();
        loop {
            std::thread::park();
        }
    });
}

impl Cluster {
    /// The process's cluster, started on first use.
    pub fn get() -> &'static Cluster {
        static CLUSTER: OnceLock<Cluster> = OnceLock::new();
        CLUSTER.get_or_init(Cluster::start)
    }

    fn start() -> Cluster {
        let bin = bin_dir();
        let user = run_as();
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown");
        }
        let data = dir.path().join("data");
        let out = command(&bin.join("initdb"), user)
            .arg("-D")
            .arg(&data)
            .args([
                "-A",
                "trust",
                "-U",
                "gatehouse",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ])
            .arg("--no-sync")
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("postgres.log")).expect("log file");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path().join("postgres.log"), Some(uid), Some(gid))
                .expect("chown log");
        }
        serve(
            bin.join("postgres"),
            data,
            port,
            dir.path().to_owned(),
            user,
            log,
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(dir.path().join("postgres.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Cluster {
            port,
            _dir: dir.keep(),
        }
    }

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://gatehouse@127.0.0.1:{}/{name}", self.port)
    }

    /// A new, empty database; returns its URL.
    pub async fn fresh_database(&self) -> String {
        use sqlx::Connection;
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut admin = loop {
            match sqlx::PgConnection::connect(&self.url("postgres")).await {
                Ok(c) => break c,
                // Accepting TCP comes before accepting sessions while the server starts.
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("connect to the test PostgreSQL: {e}"),
            }
        };
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        let _ = admin.close().await;
        self.url(&name)
    }
}
