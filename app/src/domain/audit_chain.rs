//! The audit trail's hash chain: canonical encoding of an entry, its SHA-256, and verification.
//!
//! Encoding (version 1), documented here because auditors re-implement it:
//!
//! ```text
//! hash_n = SHA-256( "gatehouse.audit.v1" || 0x00
//!                   || field(seq) || field(ts) || field(actor) || field(action)
//!                   || field(object_type) || field(object_id) || field(details)
//!                   || field(prev_hash) )
//! field(x) = u32 big-endian byte length of x || the UTF-8 bytes of x
//! ```
//!
//! * `seq` is the decimal sequence number (1, 2, …, no padding);
//! * `ts` is UTC in RFC 3339 with exactly six fractional digits and `Z`, e.g.
//!   `2026-11-27T08:19:49.123456Z`;
//! * `details` is canonical JSON: object keys sorted by their UTF-8 bytes, no insignificant
//!   whitespace (see [`canonical_json`]);
//! * `prev_hash` is the lower-case hex hash of entry `seq - 1`, or 64 zeros for entry 1.
//!
//! The length prefixes make the encoding injective: no two different entries share an encoding.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN_TAG: &[u8] = b"gatehouse.audit.v1\0";

/// The hashed fields of one audit entry, borrowed from wherever they are stored.
#[derive(Clone, Copy, Debug)]
pub struct EntryFields<'a> {
    /// Sequence number, starting at 1.
    pub seq: i64,
    /// UTC timestamp in the fixed RFC 3339 form.
    pub ts: &'a str,
    /// Who acted: a user name, `name/token:label`, `system` or `anonymous`.
    pub actor: &'a str,
    /// What happened, e.g. `user.sign_in`.
    pub action: &'a str,
    /// Kind of object acted on, e.g. `user`.
    pub object_type: &'a str,
    /// Identifier of the object acted on.
    pub object_id: &'a str,
    /// Canonical JSON details.
    pub details: &'a str,
    /// Hash of the previous entry.
    pub prev_hash: &'a str,
}

fn field(h: &mut Sha256, bytes: &[u8]) {
    // Entries are bounded far below 4 GiB by the request size limit; saturate rather than wrap.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    h.update(len.to_be_bytes());
    h.update(bytes);
}

/// SHA-256 of the canonical encoding of an entry.
pub fn entry_hash(e: &EntryFields<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN_TAG);
    field(&mut h, e.seq.to_string().as_bytes());
    field(&mut h, e.ts.as_bytes());
    field(&mut h, e.actor.as_bytes());
    field(&mut h, e.action.as_bytes());
    field(&mut h, e.object_type.as_bytes());
    field(&mut h, e.object_id.as_bytes());
    field(&mut h, e.details.as_bytes());
    field(&mut h, e.prev_hash.as_bytes());
    h.finalize().into()
}

/// Lower-case hex of an entry's hash, as stored in the `hash` column.
pub fn entry_hash_hex(e: &EntryFields<'_>) -> String {
    hex::encode(entry_hash(e))
}

/// Serialises JSON canonically: object keys sorted by UTF-8 bytes, no whitespace.
pub fn canonical_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Formats a UTC time the way entries store it: six fractional digits and `Z`.
pub fn format_ts(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Why the chain does not verify at a given entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ChainBreak {
    /// A sequence number is missing or out of order.
    SequenceGap {
        /// The sequence number that was expected.
        expected: i64,
    },
    /// `prev_hash` does not equal the previous entry's hash.
    PrevHashMismatch,
    /// The stored hash does not equal the hash recomputed from the entry.
    HashMismatch,
    /// The timestamp is earlier than the previous entry's.
    TimeReversed,
    /// This entry and every later one were removed from the end of the log.
    Truncated {
        /// The highest sequence number ever assigned.
        last_assigned: i64,
    },
}

impl ChainBreak {
    /// A sentence for people.
    pub fn describe(&self) -> String {
        match self {
            ChainBreak::SequenceGap { expected } => {
                format!("sequence number out of order (expected {expected})")
            }
            ChainBreak::PrevHashMismatch => {
                "prev_hash does not match the previous entry's hash".into()
            }
            ChainBreak::HashMismatch => "stored hash does not match the entry's contents".into(),
            ChainBreak::TimeReversed => "timestamp is earlier than the previous entry's".into(),
            ChainBreak::Truncated { last_assigned } => {
                format!("missing: entries from here to {last_assigned} were removed from the end")
            }
        }
    }
}

/// Incremental verifier: feed entries in sequence order.
#[derive(Clone, Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    prev_ts: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            prev_ts: String::new(),
        }
    }
}

impl ChainVerifier {
    /// Checks one entry against its predecessor; on success it becomes the predecessor.
    pub fn push(&mut self, e: &EntryFields<'_>, stored_hash: &str) -> Result<(), ChainBreak> {
        if e.seq != self.expected_seq {
            return Err(ChainBreak::SequenceGap {
                expected: self.expected_seq,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainBreak::PrevHashMismatch);
        }
        if e.ts < self.prev_ts.as_str() {
            return Err(ChainBreak::TimeReversed);
        }
        let mut buf = [0u8; 64];
        // hex::encode_to_slice cannot fail for a 32-byte input and a 64-byte buffer.
        if hex::encode_to_slice(entry_hash(e), &mut buf).is_err() || stored_hash.as_bytes() != buf {
            return Err(ChainBreak::HashMismatch);
        }
        self.expected_seq += 1;
        self.prev_hash.clear();
        self.prev_hash.push_str(stored_hash);
        self.prev_ts.clear();
        self.prev_ts.push_str(e.ts);
        Ok(())
    }

    /// Number of entries verified so far.
    pub fn count(&self) -> i64 {
        self.expected_seq - 1
    }

    /// Hash of the last verified entry (the genesis value when none).
    pub fn head_hash(&self) -> &str {
        &self.prev_hash
    }

    /// Final check: the last verified entry must be the last one ever assigned; otherwise the
    /// first missing sequence number is reported.
    pub fn finish(&self, last_assigned_seq: i64) -> Result<(), (i64, ChainBreak)> {
        if last_assigned_seq > self.count() {
            return Err((
                self.expected_seq,
                ChainBreak::Truncated {
                    last_assigned: last_assigned_seq,
                },
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
