//! Reading an export back (JSON or CSV) and verifying it offline: the checkpoint's signature,
//! each entry's hash, each inclusion proof and the chain links.

use super::Export;
use super::ExportEntry;
use super::CSV_HEADER;
use super::FORMAT;
use crate::domain::audit_chain::{entry_hash_hex, EntryFields};
use crate::domain::csv;
use crate::domain::merkle::{self, Hash};
use crate::dto::CheckpointView;
use crate::store::audit_tree;
use serde::{Deserialize, Serialize};

/// Why an export file could not be read as one (not JSON or CSV of an export, a missing
/// column, a malformed field).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

impl From<String> for Unreadable {
    fn from(message: String) -> Self {
        Unreadable(message)
    }
}

impl From<&str> for Unreadable {
    fn from(message: &str) -> Self {
        Unreadable(message.to_owned())
    }
}

/// The first way an export fails to verify: a signature, an entry's hash, an inclusion proof
/// or a chain link; its message names the entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Broken(pub String);

impl From<String> for Broken {
    fn from(message: String) -> Self {
        Broken(message)
    }
}

impl From<&str> for Broken {
    fn from(message: &str) -> Self {
        Broken(message.to_owned())
    }
}

/// Reads an export written as JSON or CSV.
pub fn parse(text: &str) -> Result<Export, Unreadable> {
    let t = text.trim_start();
    if t.starts_with('{') {
        return serde_json::from_str(t)
            .map_err(|e| Unreadable(format!("not a Gatehouse JSON export: {e}")));
    }
    let records = csv::records(t, false);
    let Some((header, rows)) = records.split_first() else {
        return Err("the CSV file is empty".into());
    };
    if header.fields.iter().map(String::as_str).ne(CSV_HEADER) {
        return Err(format!("unexpected CSV header: expected {}", CSV_HEADER.join(",")).into());
    }
    let mut checkpoint: Option<CheckpointView> = None;
    let mut entries = Vec::with_capacity(rows.len());
    for record in rows {
        let (line, r) = (record.line, &record.fields);
        if r.len() != CSV_HEADER.len() {
            return Err(format!(
                "line {line}: {} columns, expected {}",
                r.len(),
                CSV_HEADER.len()
            )
            .into());
        }
        let num = |s: &str, what: &str| {
            s.parse::<i64>()
                .map_err(|_| format!("line {line}: {what} '{s}' is not a number"))
        };
        // The checkpoint is on the first row; later rows leave it empty or repeat it.
        if !(checkpoint.is_some() && r[10..].iter().all(String::is_empty)) {
            let cp = CheckpointView {
                tree_size: num(&r[10], "tree_size")?,
                root_hash: r[11].clone(),
                issued_at: r[12].clone(),
                key_id: r[13].clone(),
                signature: r[14].clone(),
                public_key: r[15].clone(),
            };
            match &checkpoint {
                None => checkpoint = Some(cp),
                Some(c) if *c != cp => {
                    return Err(
                        format!("line {line}: a different checkpoint than the rows before").into(),
                    )
                }
                Some(_) => {}
            }
        }
        entries.push(ExportEntry {
            seq: num(&r[0], "seq")?,
            ts: r[1].clone(),
            actor: r[2].clone(),
            action: r[3].clone(),
            object_type: r[4].clone(),
            object_id: r[5].clone(),
            details: r[6].clone(),
            prev_hash: r[7].clone(),
            hash: r[8].clone(),
            audit_path: r[9].split_whitespace().map(str::to_owned).collect(),
        });
    }
    Ok(Export {
        format: FORMAT.into(),
        exported_at: String::new(),
        filter: Vec::new(),
        checkpoint: checkpoint.ok_or("the CSV export holds no entries")?,
        entries,
    })
}

/// What an offline verification found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportCheck {
    /// Entries whose hash and inclusion proof verified.
    pub verified: usize,
    /// The checkpoint's tree size and root.
    pub tree_size: i64,
    /// Root.
    pub root_hash: String,
    /// Whether the key was pinned by the caller (rather than taken from the file).
    pub key_pinned: bool,
}

/// Verifies an export without the database; the first failure is the error.
pub fn verify(e: &Export, pinned_key: Option<&str>) -> Result<ExportCheck, Broken> {
    let c = &e.checkpoint;
    let key_hex = pinned_key.unwrap_or(&c.public_key);
    let key = crate::service::signing::parse_public_key(key_hex)
        .ok_or_else(|| format!("'{key_hex}' is not an Ed25519 public key (64 hex digits)"))?;
    if pinned_key.is_some_and(|k| !k.trim().eq_ignore_ascii_case(&c.public_key)) {
        return Err("the export was signed with another key than the one given".into());
    }
    let cp = audit_tree::Checkpoint {
        tree_size: c.tree_size,
        root_hash: c.root_hash.clone(),
        issued_at: c.issued_at.clone(),
        key_id: c.key_id.clone(),
        signature: c.signature.clone(),
    };
    if !crate::service::signing::verify_checkpoint(&key, &cp) {
        return Err(format!(
            "the checkpoint of {} entries does not carry a valid signature",
            c.tree_size
        )
        .into());
    }
    let root: Hash = merkle::from_hex(&c.root_hash).ok_or("the checkpoint root is not a hash")?;
    let size = c.tree_size.max(0) as u64;
    // Order and links first (cheap), then every entry's hash and proof, on all cores.
    for w in e.entries.windows(2) {
        let (p, x) = (&w[0], &w[1]);
        if p.seq >= x.seq {
            return Err(format!("entry {}: out of order after {}", x.seq, p.seq).into());
        }
        if p.seq + 1 == x.seq && x.prev_hash != p.hash {
            return Err(format!("entry {}: does not link to entry {}", x.seq, p.seq).into());
        }
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let per = e.entries.len().div_ceil(threads).max(1);
    let failures: Vec<Broken> = std::thread::scope(|s| {
        let handles: Vec<_> = e
            .entries
            .chunks(per)
            .map(|chunk| s.spawn(move || verify_entries(chunk, size, &root).err()))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| {
                h.join()
                    .unwrap_or_else(|_| Some("verification thread failed".into()))
            })
            .collect()
    });
    if let Some(first) = failures.into_iter().next() {
        return Err(first);
    }
    Ok(ExportCheck {
        verified: e.entries.len(),
        tree_size: c.tree_size,
        root_hash: c.root_hash.clone(),
        key_pinned: pinned_key.is_some(),
    })
}

fn verify_entries(entries: &[ExportEntry], size: u64, root: &Hash) -> Result<(), Broken> {
    for x in entries {
        let recomputed = entry_hash_hex(&EntryFields {
            seq: x.seq,
            ts: &x.ts,
            actor: &x.actor,
            action: &x.action,
            object_type: &x.object_type,
            object_id: &x.object_id,
            details: &x.details,
            prev_hash: &x.prev_hash,
        });
        if recomputed != x.hash {
            return Err(format!(
                "entry {}: its fields hash to {recomputed}, not the recorded {}",
                x.seq, x.hash
            )
            .into());
        }
        let mut raw = [0u8; 32];
        hex::decode_to_slice(&x.hash, &mut raw)
            .map_err(|_| format!("entry {}: hash is not hex", x.seq))?;
        let path: Option<Vec<Hash>> = x.audit_path.iter().map(|h| merkle::from_hex(h)).collect();
        let path = path.ok_or_else(|| format!("entry {}: proof is not hex", x.seq))?;
        if x.seq < 1
            || !merkle::verify_inclusion(
                x.seq as u64 - 1,
                size,
                &merkle::leaf_hash(&raw),
                &path,
                root,
            )
        {
            return Err(format!(
                "entry {}: its inclusion proof does not lead to the checkpoint root",
                x.seq
            )
            .into());
        }
    }
    Ok(())
}
