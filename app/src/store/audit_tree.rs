//! The stored Merkle tree over `audit_log` (see [`crate::domain::merkle`]) and its signed
//! checkpoints.
//!
//! Leaf `i` is entry `seq = i + 1`; its leaf input is the 32 raw bytes of the entry's chain
//! hash. Perfect subtrees from [`STORED_LEVEL`] up are kept in `audit_merkle`, so a proof at a
//! million entries reads ~20 stored nodes and at most a few dozen entry hashes.

use crate::domain::merkle::{self, Hash, Recorder, Subtrees};
use crate::store::direct::{self, Pairs};
use crate::store::{DriverError, Pool};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

mod snapshot;
pub use snapshot::{snapshot, Snapshot};

/// Lowest stored level: subtrees of 16 leaves.
pub const STORED_LEVEL: u32 = 4;

/// A signed tree head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Checkpoint {
    /// Number of entries covered.
    pub tree_size: i64,
    /// RFC 6962 root, hex.
    pub root_hash: String,
    /// When it was signed (RFC 3339).
    pub issued_at: String,
    /// First 16 hex digits of the SHA-256 of the public key.
    pub key_id: String,
    /// Ed25519 signature of [`merkle::checkpoint_message`], hex.
    pub signature: String,
}

/// Number of entries in the log (entries are numbered 1..=n without gaps).
pub async fn log_size(pool: &Pool) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM audit_log")
        .fetch_one(pool)
        .await?;
    Ok(n.max(0) as u64)
}

/// The leaf hash of an entry, from its stored chain hash (hex).
pub fn leaf_of(hex_hash: &str) -> Hash {
    // A malformed stored hash still gets a (different) leaf, so tampering shows as a root
    // mismatch instead of an error.
    let mut raw = [0u8; 32];
    if hex::decode_to_slice(hex_hash, &mut raw).is_err() {
        return merkle::leaf_hash(hex_hash.as_bytes());
    }
    merkle::leaf_hash(&raw)
}

fn to_hash(bytes: &[u8]) -> Hash {
    let mut h = [0u8; 32];
    if bytes.len() == 32 {
        h.copy_from_slice(bytes);
    }
    h
}

/// Brings the stored subtrees up to the log's current size; returns that size.
pub async fn extend(pool: &Pool) -> Result<u64, sqlx::Error> {
    let mut tx = super::begin_write(pool).await?;
    let n: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM audit_log")
        .fetch_one(&mut *tx)
        .await?;
    let n = n.max(0) as u64;
    let mut level = STORED_LEVEL;
    loop {
        let target = n >> level;
        if target == 0 {
            break;
        }
        let have: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(idx) + 1, 0) FROM audit_merkle WHERE level = $1",
        )
        .bind(level as i64)
        .fetch_one(&mut *tx)
        .await?;
        let have = have.max(0) as u64;
        if have >= target {
            level += 1;
            continue;
        }
        let new: Vec<Hash> = if level == STORED_LEVEL {
            // Whole blocks of 16 entries, hashed from the log.
            let first_seq = (have << level) as i64 + 1;
            let last_seq = (target << level) as i64;
            let hashes: Vec<String> = sqlx::query_scalar(
                "SELECT hash FROM audit_log WHERE seq BETWEEN $1 AND $2 ORDER BY seq",
            )
            .bind(first_seq)
            .bind(last_seq)
            .fetch_all(&mut *tx)
            .await?;
            let leaves: Vec<Hash> = hashes.iter().map(|h| leaf_of(h)).collect();
            leaves.chunks(1 << level).map(merkle::root).collect()
        } else {
            let children: Vec<Vec<u8>> = sqlx::query_scalar(
                "SELECT hash FROM audit_merkle WHERE level = $1 AND idx BETWEEN $2 AND $3 ORDER BY idx",
            )
            .bind((level - 1) as i64)
            .bind((have * 2) as i64)
            .bind((target * 2 - 1) as i64)
            .fetch_all(&mut *tx)
            .await?;
            children
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| merkle::node_hash(&to_hash(&c[0]), &to_hash(&c[1])))
                .collect()
        };
        for (i, h) in new.iter().enumerate() {
            sqlx::query(
                "INSERT INTO audit_merkle (level, idx, hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(level as i64)
            .bind((have + i as u64) as i64)
            .bind(&h[..])
            .execute(&mut *tx)
            .await?;
        }
        level += 1;
    }
    tx.commit().await?;
    Ok(n)
}

/// Perfect subtrees fetched for one proof.
struct Fetched(HashMap<(u32, u64), Hash>);

impl Subtrees for Fetched {
    type Error = sqlx::Error;
    fn perfect(&mut self, level: u32, index: u64) -> Result<Hash, sqlx::Error> {
        self.0
            .get(&(level, index))
            .copied()
            .ok_or_else(|| sqlx::Error::Protocol(format!("subtree {level}/{index} not stored")))
    }
}

/// Fetches the perfect subtrees a proof in the tree of `size` entries asks for. When the
/// stored tree does not cover `size` yet it is extended first, and read again.
async fn fetch(pool: &Pool, wanted: &[(u32, u64)], size: u64) -> Result<Fetched, sqlx::Error> {
    let (fetched, blocks) = read_subtrees(pool, wanted).await?;
    if blocks >= size >> STORED_LEVEL {
        return Ok(fetched);
    }
    extend(pool).await?;
    Ok(read_subtrees(pool, wanted).await?.0)
}

/// The stored subtrees among `wanted` and the entry hashes under the small ones, in one
/// statement (on PostgreSQL three were a round trip each, and an inclusion proof took twice
/// SQLite's time), with how many blocks of 2^[`STORED_LEVEL`] entries the stored tree covers.
/// The entries are read as runs of consecutive `seq`s (a proof's are the block around its
/// entry and the tree's last block): one index range each rather than a probe per entry.
/// Small subtrees are hashed here from their entries.
async fn read_subtrees(pool: &Pool, wanted: &[(u32, u64)]) -> Result<(Fetched, u64), sqlx::Error> {
    let (stored, small): (Vec<_>, Vec<_>) = wanted
        .iter()
        .copied()
        .partition(|(l, _)| *l >= STORED_LEVEL);
    let mut seqs: Vec<u64> = small
        .iter()
        .flat_map(|&(l, i)| ((i << l) + 1)..=((i + 1) << l))
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    let nodes: Vec<(i64, i64)> = stored
        .iter()
        .map(|&(l, i)| (i64::from(l), i as i64))
        .collect();
    let runs = consecutive_runs(&seqs);
    let rows = direct::query(pool, move |postgres| {
        let nodes = Pairs::new(postgres, "k", 1, &nodes);
        let runs = Pairs::new(postgres, "r", 1 + nodes.width(), &runs);
        let hex = if postgres {
            "encode(m.hash, 'hex')"
        } else {
            "hex(m.hash)"
        };
        let sql = format!(
            "SELECT 'S', m.level, m.idx, {hex} FROM {nodes} JOIN audit_merkle m \
               ON m.level = k.a AND m.idx = k.b \
             UNION ALL SELECT 'L', 0, l.seq, l.hash FROM {runs} JOIN audit_log l \
               ON l.seq BETWEEN r.a AND r.b \
             UNION ALL SELECT 'C', 0, coalesce(max(idx) + 1, 0), NULL FROM audit_merkle \
               WHERE level = {STORED_LEVEL}",
            nodes = nodes.from,
            runs = runs.from,
        );
        let mut args = nodes.into_args();
        args.extend(runs.into_args());
        (sql, args)
    })
    .await
    .map_err(|e| match e {
        DriverError::Pool(e) => e,
        DriverError::Sqlite(e) => sqlx::Error::Protocol(format!("reading the Merkle tree: {e}")),
    })?;
    let mut out = HashMap::new();
    let mut leaves: HashMap<u64, Hash> = HashMap::new();
    let mut blocks = 0;
    for row in rows {
        let mut row = row.into_iter();
        let (Some(kind), Some(level), Some(index), Some(hash)) =
            (row.next(), row.next(), row.next(), row.next())
        else {
            continue;
        };
        let index = index.int().unwrap_or(0).max(0) as u64;
        match (kind.text().as_deref(), hash.text()) {
            (Some("S"), Some(hex)) => {
                let level = level.int().unwrap_or(0).max(0) as u32;
                out.insert(
                    (level, index),
                    to_hash(&hex::decode(hex).unwrap_or_default()),
                );
            }
            (Some("L"), Some(h)) => {
                leaves.insert(index, leaf_of(&h));
            }
            (Some("C"), _) => blocks = index,
            _ => {}
        }
    }
    for (l, i) in small {
        let range: Option<Vec<Hash>> = (((i << l) + 1)..=((i + 1) << l))
            .map(|s| leaves.get(&s).copied())
            .collect();
        if let Some(r) = range {
            out.insert((l, i), merkle::root(&r));
        }
    }
    Ok((Fetched(out), blocks))
}

/// Sorted, distinct `seqs` as runs `(first, last)` of consecutive numbers.
fn consecutive_runs(seqs: &[u64]) -> Vec<(i64, i64)> {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &s in seqs {
        let s = s as i64;
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == s => *last = s,
            _ => runs.push((s, s)),
        }
    }
    runs
}

/// The root of the first `size` entries, from the stored tree.
pub async fn root_at(pool: &Pool, size: u64) -> Result<Hash, sqlx::Error> {
    let mut rec = Recorder::default();
    let Ok(_) = merkle::tree_root(&mut rec, size);
    let mut f = fetch(pool, &rec.0, size).await?;
    merkle::tree_root(&mut f, size)
}

/// The inclusion proof of entry `seq` in the tree of `size` entries; `None` when the entry
/// is not in that tree.
pub async fn inclusion_proof(
    pool: &Pool,
    seq: u64,
    size: u64,
) -> Result<Option<Vec<Hash>>, sqlx::Error> {
    if seq == 0 || seq > size {
        return Ok(None);
    }
    let mut rec = Recorder::default();
    let Ok(_) = merkle::inclusion_proof(&mut rec, seq - 1, size);
    let mut f = fetch(pool, &rec.0, size).await?;
    Ok(merkle::inclusion_proof(&mut f, seq - 1, size)?.ok())
}

/// The consistency proof between the trees of `first` and `second` entries; `None` when the
/// sizes are not 1 ≤ first ≤ second.
pub async fn consistency_proof(
    pool: &Pool,
    first: u64,
    second: u64,
) -> Result<Option<Vec<Hash>>, sqlx::Error> {
    if first == 0 || first > second {
        return Ok(None);
    }
    let mut rec = Recorder::default();
    let Ok(_) = merkle::consistency_proof(&mut rec, first, second);
    let mut f = fetch(pool, &rec.0, second).await?;
    Ok(merkle::consistency_proof(&mut f, first, second)?.ok())
}

/// The leaf hash of entry `seq`.
pub async fn leaf(pool: &Pool, seq: u64) -> Result<Option<Hash>, sqlx::Error> {
    let h: Option<String> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(seq as i64)
        .fetch_optional(pool)
        .await?;
    Ok(h.map(|h| leaf_of(&h)))
}

/// The newest checkpoint.
pub async fn latest_checkpoint(pool: &Pool) -> Result<Option<Checkpoint>, sqlx::Error> {
    sqlx::query_as(
        "SELECT tree_size, root_hash, issued_at, key_id, signature FROM audit_checkpoints \
         ORDER BY tree_size DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}

/// The checkpoint of exactly `size` entries.
pub async fn checkpoint(pool: &Pool, size: u64) -> Result<Option<Checkpoint>, sqlx::Error> {
    sqlx::query_as(
        "SELECT tree_size, root_hash, issued_at, key_id, signature FROM audit_checkpoints WHERE tree_size = $1",
    )
    .bind(size as i64)
    .fetch_optional(pool)
    .await
}

/// Stores a checkpoint (a second one of the same size is ignored).
pub async fn insert_checkpoint(pool: &Pool, c: &Checkpoint) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(pool).await?;
    sqlx::query(
        "INSERT INTO audit_checkpoints (tree_size, root_hash, issued_at, key_id, signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(c.tree_size)
    .bind(&c.root_hash)
    .bind(&c.issued_at)
    .bind(&c.key_id)
    .bind(&c.signature)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
