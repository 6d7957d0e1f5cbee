//! The audit checkpoint signing key: Ed25519, the 32-byte seed in hex in a file of mode 0600,
//! and the checkpoints it signs. By default the file is `audit-signing.key` beside the
//! database file, created on first start; a deployment may name its own file instead
//! ([`use_key_file`], `AUDIT_SIGNING_KEY_FILE`), which must exist (`server create-signing-key`
//! makes one), so that every server of one database signs with the same key.

use crate::domain::merkle;
use crate::store::audit_tree::{self, Checkpoint};
use crate::store::Pool;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// File name of the key, in the database's folder.
pub const KEY_FILE: &str = "audit-signing.key";

/// The database file a pool opens: what the key's configuration and cache are keyed by.
fn database_of(pool: &Pool) -> PathBuf {
    crate::store::sqlite_file(pool)
        .unwrap_or_else(|_| PathBuf::from(pool.connect_options().database_url.as_str()))
}

/// The key files named for a database ([`use_key_file`]), by database.
fn configured() -> &'static Mutex<HashMap<PathBuf, PathBuf>> {
    static FILES: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    FILES.get_or_init(Default::default)
}

/// The loaded keys, by key file.
fn loaded() -> &'static Mutex<HashMap<PathBuf, Arc<SigningKey>>> {
    static KEYS: OnceLock<Mutex<HashMap<PathBuf, Arc<SigningKey>>>> = OnceLock::new();
    KEYS.get_or_init(Default::default)
}

/// The key's location for a pool: the file named for its database, else, for an SQLite store,
/// `audit-signing.key` in the folder of its database file. A PostgreSQL store has no folder of
/// its own, and its servers must share one key: it needs the file named (`NotFound` otherwise).
pub fn key_path(pool: &Pool) -> std::io::Result<PathBuf> {
    let db = database_of(pool);
    if let Some(file) = configured()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&db)
    {
        return Ok(file.clone());
    }
    if crate::store::backend(pool) == crate::store::Backend::Postgres {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "a PostgreSQL store signs with a key every server shares: create one with \
             `server create-signing-key FILE` and name it in AUDIT_SIGNING_KEY_FILE",
        ));
    }
    Ok(db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join(KEY_FILE))
}

/// Signs `pool`'s checkpoints with the key in `file`, which must exist and hold a key: a
/// configured key is never created here, so two servers cannot each make their own.
pub fn use_key_file(pool: &Pool, file: &Path) -> std::io::Result<Arc<SigningKey>> {
    let key = Arc::new(read_key(file)?);
    loaded()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(file.to_owned(), key.clone());
    configured()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(database_of(pool), file.to_owned());
    Ok(key)
}

/// The key in `path`.
fn read_key(path: &Path) -> std::io::Result<SigningKey> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("reading the signing key {}: {e}", path.display()),
        )
    })?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: not a 64-hex-digit Ed25519 seed ({e})", path.display()),
        )
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Creates a new key in `path` (mode 0600); an existing file is never overwritten
/// (`AlreadyExists`).
pub fn create_key_file(path: &Path) -> std::io::Result<SigningKey> {
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    use std::io::Write;
    writeln!(f, "{}", hex::encode(seed))?;
    f.sync_all()?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The key in `path`, created there when there is none yet.
fn read_or_create(path: &Path) -> std::io::Result<SigningKey> {
    match read_key(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match create_key_file(path) {
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key(path),
            created => created,
        },
        read => read,
    }
}

/// The signing key for `pool`'s database, kept in memory once read: the configured file's, or
/// the default file's, created on first use.
pub fn key_for(pool: &Pool) -> std::io::Result<Arc<SigningKey>> {
    let path = key_path(pool)?;
    let mut map = loaded().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(k) = map.get(&path) {
        return Ok(k.clone());
    }
    let k = Arc::new(read_or_create(&path)?);
    map.insert(path, k.clone());
    Ok(k)
}

/// Hex of the public key.
pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().as_bytes())
}

/// The key id: the first 16 hex digits of the SHA-256 of the public key.
pub fn key_id(public: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

/// Whether `c` is signed by `public` over its own size, root and time.
pub fn verify_checkpoint(public: &VerifyingKey, c: &Checkpoint) -> bool {
    let (Some(root), Ok(sig)) = (merkle::from_hex(&c.root_hash), hex::decode(&c.signature)) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(&sig) else {
        return false;
    };
    let msg = merkle::checkpoint_message(c.tree_size.max(0) as u64, &root, &c.issued_at);
    public.verify(msg.as_bytes(), &sig).is_ok()
}

/// Parses a hex public key.
pub fn parse_public_key(hex_key: &str) -> Option<VerifyingKey> {
    let mut raw = [0u8; 32];
    hex::decode_to_slice(hex_key.trim(), &mut raw).ok()?;
    VerifyingKey::from_bytes(&raw).ok()
}

/// Signs a checkpoint of the whole log as it is now (or returns the existing one of that size).
pub async fn checkpoint_now(pool: &Pool) -> Result<Option<Checkpoint>, crate::error::AppError> {
    let key = key_for(pool).map_err(|e| {
        tracing::error!(error = %e, "audit signing key unavailable");
        crate::error::AppError::internal()
    })?;
    // Reads first: the writer turn is taken only when the log has grown since the last one.
    let size = audit_tree::log_size(pool).await?;
    if size == 0 {
        return Ok(None);
    }
    if let Some(c) = audit_tree::checkpoint(pool, size).await? {
        return Ok(Some(c));
    }
    // root_at extends the stored subtrees when they do not cover `size`.
    let root = audit_tree::root_at(pool, size).await?;
    let issued_at = crate::service::now_ts();
    let msg = merkle::checkpoint_message(size, &root, &issued_at);
    let c = Checkpoint {
        tree_size: size as i64,
        root_hash: merkle::to_hex(&root),
        issued_at,
        key_id: key_id(&key.verifying_key()),
        signature: hex::encode(key.sign(msg.as_bytes()).to_bytes()),
    };
    audit_tree::insert_checkpoint(pool, &c).await?;
    Ok(audit_tree::checkpoint(pool, size).await?)
}
