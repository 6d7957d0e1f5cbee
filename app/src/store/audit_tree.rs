//! The stored Merkle tree over `audit_log` (see [`crate::domain::merkle`]) and its signed
//! checkpoints.
//!
//! Leaf `i` is entry `seq = i + 1`; its leaf input is the 32 raw bytes of the entry's chain
//! hash. Perfect subtrees from [`STORED_LEVEL`] up are kept in `audit_merkle`, so a proof at a
//! million entries reads ~20 stored nodes and at most a few dozen entry hashes.

use crate::domain::merkle::{self, Hash, Recorder, Subtrees};
use crate::store::{Db, Pool};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;

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

/// Fetches the perfect subtrees a proof asks for: stored ones in one query, small ones hashed
/// from the entries they cover (one query as well).
async fn fetch(pool: &Pool, wanted: &[(u32, u64)]) -> Result<Fetched, sqlx::Error> {
    let (stored, small): (Vec<_>, Vec<_>) = wanted
        .iter()
        .copied()
        .partition(|(l, _)| *l >= STORED_LEVEL);
    let mut out = HashMap::new();
    if !stored.is_empty() {
        let mut q: QueryBuilder<Db> =
            QueryBuilder::new("SELECT level, idx, hash FROM audit_merkle WHERE (level, idx) IN (");
        let mut sep = q.separated(", ");
        for (level, idx) in &stored {
            sep.push("(")
                .push_bind_unseparated(i64::from(*level))
                .push_unseparated(", ")
                .push_bind_unseparated(*idx as i64)
                .push_unseparated(")");
        }
        q.push(")");
        let rows: Vec<AnyRow> = crate::store::sql::fetch_all_rows(&mut q, pool).await?;
        for r in rows {
            let level: i64 = r.try_get(0)?;
            let idx: i64 = r.try_get(1)?;
            let hash: Vec<u8> = r.try_get(2)?;
            out.insert((level as u32, idx as u64), to_hash(&hash));
        }
    }
    if !small.is_empty() {
        let mut seqs: Vec<i64> = small
            .iter()
            .flat_map(|&(l, i)| ((i << l) as i64 + 1)..=(((i + 1) << l) as i64))
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        let mut q: QueryBuilder<Db> =
            QueryBuilder::new("SELECT seq, hash FROM audit_log WHERE seq IN (");
        let mut sep = q.separated(", ");
        for seq in &seqs {
            sep.push_bind(*seq);
        }
        q.push(")");
        let rows: Vec<AnyRow> = crate::store::sql::fetch_all_rows(&mut q, pool).await?;
        let mut leaves: HashMap<i64, Hash> = HashMap::new();
        for r in rows {
            let seq: i64 = r.try_get(0)?;
            let hash: String = r.try_get(1)?;
            leaves.insert(seq, leaf_of(&hash));
        }
        for (l, i) in small {
            let range: Option<Vec<Hash>> = (((i << l) as i64 + 1)..=(((i + 1) << l) as i64))
                .map(|s| leaves.get(&s).copied())
                .collect();
            if let Some(r) = range {
                out.insert((l, i), merkle::root(&r));
            }
        }
    }
    Ok(Fetched(out))
}

/// Makes sure the stored tree covers `size` entries.
async fn ensure_covers(pool: &Pool, size: u64) -> Result<(), sqlx::Error> {
    let blocks: i64 = sqlx::query_scalar(
        "SELECT coalesce((SELECT max(idx) + 1 FROM audit_merkle WHERE level = $1), 0)",
    )
    .bind(STORED_LEVEL as i64)
    .fetch_one(pool)
    .await?;
    let covered = blocks << STORED_LEVEL;
    if (covered.max(0) as u64) < (size >> STORED_LEVEL) << STORED_LEVEL {
        extend(pool).await?;
    }
    Ok(())
}

/// The root of the first `size` entries, from the stored tree.
pub async fn root_at(pool: &Pool, size: u64) -> Result<Hash, sqlx::Error> {
    ensure_covers(pool, size).await?;
    let mut rec = Recorder::default();
    let Ok(_) = merkle::tree_root(&mut rec, size);
    let mut f = fetch(pool, &rec.0).await?;
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
    ensure_covers(pool, size).await?;
    let mut rec = Recorder::default();
    let Ok(_) = merkle::inclusion_proof(&mut rec, seq - 1, size);
    let mut f = fetch(pool, &rec.0).await?;
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
    ensure_covers(pool, second).await?;
    let mut rec = Recorder::default();
    let Ok(_) = merkle::consistency_proof(&mut rec, first, second);
    let mut f = fetch(pool, &rec.0).await?;
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

/// The tree of the first `size` entries held in memory for many proofs at once (an export):
/// every stored subtree, and for each 16-entry block the proofs reach into, its leaves and the
/// complete subtrees above them (levels 0–3), hashed once.
pub struct Snapshot {
    /// Stored levels, from [`STORED_LEVEL`] up.
    levels: Vec<Vec<Hash>>,
    /// Per loaded block: levels 0..STORED_LEVEL of its complete subtrees.
    blocks: HashMap<u64, Vec<Vec<Hash>>>,
}

impl Snapshot {
    /// The root of one perfect subtree, if loaded.
    pub fn get(&self, level: u32, index: u64) -> Option<Hash> {
        if level >= STORED_LEVEL {
            return self
                .levels
                .get((level - STORED_LEVEL) as usize)
                .and_then(|l| l.get(index as usize))
                .copied();
        }
        let block = (index << level) >> STORED_LEVEL;
        let within = index - (block << (STORED_LEVEL - level));
        self.blocks
            .get(&block)
            .and_then(|b| b.get(level as usize))
            .and_then(|l| l.get(within as usize))
            .copied()
    }
}

impl Subtrees for &Snapshot {
    type Error = sqlx::Error;
    fn perfect(&mut self, level: u32, index: u64) -> Result<Hash, sqlx::Error> {
        self.get(level, index)
            .ok_or_else(|| sqlx::Error::Protocol(format!("subtree {level}/{index} not loaded")))
    }
}

/// Loads what proofs of `seqs` in the tree of `size` entries need.
pub async fn snapshot(pool: &Pool, size: u64, seqs: &[u64]) -> Result<Snapshot, sqlx::Error> {
    ensure_covers(pool, size).await?;
    let mut levels = Vec::new();
    let mut level = STORED_LEVEL;
    while size >> level > 0 {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT hash FROM audit_merkle WHERE level = $1 AND idx < $2 ORDER BY idx",
        )
        .bind(level as i64)
        .bind((size >> level) as i64)
        .fetch_all(pool)
        .await?;
        levels.push(rows.iter().map(|h| to_hash(h)).collect());
        level += 1;
    }
    let mut wanted: Vec<u64> = seqs
        .iter()
        .map(|s| (s.saturating_sub(1)) >> STORED_LEVEL)
        .collect();
    if size > 0 {
        wanted.push((size - 1) >> STORED_LEVEL);
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut blocks: HashMap<u64, Vec<Vec<Hash>>> = HashMap::new();
    // Consecutive blocks are read as one range.
    let mut i = 0;
    while i < wanted.len() {
        let mut j = i;
        while j + 1 < wanted.len() && wanted[j + 1] == wanted[j] + 1 {
            j += 1;
        }
        let first_seq = (wanted[i] << STORED_LEVEL) as i64 + 1;
        let last_seq = (((wanted[j] + 1) << STORED_LEVEL) as i64).min(size as i64);
        let hashes: Vec<String> = sqlx::query_scalar(
            "SELECT hash FROM audit_log WHERE seq BETWEEN $1 AND $2 ORDER BY seq",
        )
        .bind(first_seq)
        .bind(last_seq)
        .fetch_all(pool)
        .await?;
        for (k, chunk) in hashes.chunks(1 << STORED_LEVEL).enumerate() {
            let mut lv: Vec<Vec<Hash>> = vec![chunk.iter().map(|h| leaf_of(h)).collect()];
            for _ in 1..STORED_LEVEL {
                let below = lv.last().map(Vec::as_slice).unwrap_or(&[]);
                let up: Vec<Hash> = below
                    .chunks_exact(2)
                    .map(|p| merkle::node_hash(&p[0], &p[1]))
                    .collect();
                lv.push(up);
            }
            blocks.insert(wanted[i] + k as u64, lv);
        }
        i = j + 1;
    }
    Ok(Snapshot { levels, blocks })
}
