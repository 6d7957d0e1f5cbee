//! The tree held in memory for many proofs at once (an audit export).

use super::{extend, leaf_of, to_hash, STORED_LEVEL};
use crate::domain::merkle::{self, Hash, Subtrees};
use crate::store::Pool;
use std::collections::HashMap;

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
