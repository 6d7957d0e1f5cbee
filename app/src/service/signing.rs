//! The audit checkpoint signing key: Ed25519, created on first start beside the database file
//! (`audit-signing.key`, mode 0600, the 32-byte seed in hex), and the checkpoints it signs.

use crate::domain::merkle;
use crate::store::audit_tree::{self, Checkpoint};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// File name of the key, in the database's folder.
pub const KEY_FILE: &str = "audit-signing.key";

/// The key's location for a pool: the folder of its database file.
pub fn key_path(pool: &SqlitePool) -> PathBuf {
    let db = pool.connect_options().get_filename().to_path_buf();
    db.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join(KEY_FILE)
}

fn read_or_create(path: &Path) -> std::io::Result<SigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut seed = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut seed).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: not a 64-hex-digit Ed25519 seed ({e})", path.display()),
                )
            })?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            match opts.open(path) {
                Ok(mut f) => {
                    use std::io::Write;
                    writeln!(f, "{}", hex::encode(seed))?;
                    f.sync_all()?;
                    Ok(SigningKey::from_bytes(&seed))
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_or_create(path),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// The signing key for `pool`'s database, created on first use and then kept in memory.
pub fn key_for(pool: &SqlitePool) -> std::io::Result<Arc<SigningKey>> {
    static KEYS: OnceLock<Mutex<HashMap<PathBuf, Arc<SigningKey>>>> = OnceLock::new();
    let path = key_path(pool);
    let keys = KEYS.get_or_init(Default::default);
    let mut map = keys.lock().unwrap_or_else(|e| e.into_inner());
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
pub async fn checkpoint_now(
    pool: &SqlitePool,
) -> Result<Option<Checkpoint>, crate::error::AppError> {
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
