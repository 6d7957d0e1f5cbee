//! The audit trail's Merkle tree, as specified by RFC 6962 §2.1 (and RFC 9162 §2.1, which
//! gives the verification algorithms used here).
//!
//! ```text
//! leaf hash  = SHA-256(0x00 || leaf input)          leaf input = the 32 raw bytes of the
//! node hash  = SHA-256(0x01 || left || right)                    entry's chain hash
//! MTH({})    = SHA-256("")
//! MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n]))       k = largest power of two < n
//! ```
//!
//! Proofs are built from *perfect* subtrees (`2^level` leaves starting at `index · 2^level`),
//! which is what the store keeps; any other range that the recursion needs is the right edge of
//! the tree and is folded from perfect subtrees on the fly. Checked against the RFC 6962 test
//! vectors of the Certificate Transparency reference implementation.

use sha2::{Digest, Sha256};

mod proofs;
#[cfg(test)]
mod tests;

pub use proofs::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion, ProofError,
};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash of a leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly less than `n` (`n ≥ 2`).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The root of a list of leaf hashes (already hashed with [`leaf_hash`]).
pub fn root(leaves: &[Hash]) -> Hash {
    let mut acc = Accumulator::default();
    for l in leaves {
        acc.push(*l);
    }
    acc.root()
}

/// Builds the root of a growing list of leaves in O(log n) memory: the perfect subtrees of
/// the binary decomposition of the size, folded right to left at the end.
#[derive(Clone, Debug, Default)]
pub struct Accumulator {
    /// (level, hash) of the perfect subtrees, largest first.
    stack: Vec<(u32, Hash)>,
    size: u64,
}

impl Accumulator {
    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut cur = (0u32, leaf);
        while let Some(&(level, ref left)) = self.stack.last() {
            if level != cur.0 {
                break;
            }
            cur = (level + 1, node_hash(left, &cur.1));
            self.stack.pop();
        }
        self.stack.push(cur);
        self.size += 1;
    }

    /// Number of leaves pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree head of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        let Some(&(_, last)) = it.next() else {
            return empty_root();
        };
        it.fold(last, |right, (_, left)| node_hash(left, &right))
    }
}

/// Where the proof builders get perfect-subtree hashes: `perfect(level, index)` is the root of
/// leaves `[index · 2^level, (index + 1) · 2^level)`.
pub trait Subtrees {
    /// Why a hash could not be had (a store error, say).
    type Error;
    /// The root of one perfect subtree.
    fn perfect(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;

    /// The root of a range that is not a perfect subtree (see `range_root`); sources may
    /// remember it.
    fn range(&mut self, a: u64, b: u64) -> Result<Hash, Self::Error>
    where
        Self: Sized,
    {
        range_root_uncached(self, a, b)
    }
}

/// Subtrees of an in-memory list of leaf hashes (tests, offline verification, small trees).
pub struct InMemory<'a>(pub &'a [Hash]);

impl Subtrees for InMemory<'_> {
    type Error = std::convert::Infallible;
    fn perfect(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        let start = (index << level) as usize;
        let end = ((index + 1) << level) as usize;
        Ok(root(&self.0[start..end]))
    }
}

/// Records which perfect subtrees a proof needs, answering with zeros: the requests of the
/// proof builders never depend on the hashes, so a store can fetch them all in one go.
#[derive(Default, Debug)]
pub struct Recorder(pub Vec<(u32, u64)>);

impl Subtrees for Recorder {
    type Error = std::convert::Infallible;
    fn perfect(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        self.0.push((level, index));
        Ok([0; 32])
    }
}

/// Remembers the roots of the ranges that are not perfect subtrees (the right edge of the
/// tree, shared by every proof in it), for many proofs over one source.
pub struct Memo<S> {
    inner: S,
    edges: std::collections::HashMap<(u64, u64), Hash>,
}

impl<S> Memo<S> {
    /// Wraps a source.
    pub fn new(inner: S) -> Self {
        Memo {
            inner,
            edges: std::collections::HashMap::new(),
        }
    }
}

impl<S: Subtrees> Subtrees for Memo<S> {
    type Error = S::Error;
    fn perfect(&mut self, level: u32, index: u64) -> Result<Hash, S::Error> {
        self.inner.perfect(level, index)
    }
    fn range(&mut self, a: u64, b: u64) -> Result<Hash, S::Error> {
        if let Some(h) = self.edges.get(&(a, b)) {
            return Ok(*h);
        }
        let h = range_root_uncached(self, a, b)?;
        self.edges.insert((a, b), h);
        Ok(h)
    }
}

/// `MTH(D[a:b])` where `a` is a multiple of a power of two ≥ `b - a` (true of every range the
/// RFC's recursions visit).
fn range_root<S: Subtrees>(s: &mut S, a: u64, b: u64) -> Result<Hash, S::Error> {
    let n = b - a;
    if n.is_power_of_two() {
        let level = n.trailing_zeros();
        return s.perfect(level, a >> level);
    }
    s.range(a, b)
}

fn range_root_uncached<S: Subtrees>(s: &mut S, a: u64, b: u64) -> Result<Hash, S::Error> {
    let n = b - a;
    if n.is_power_of_two() {
        let level = n.trailing_zeros();
        return s.perfect(level, a >> level);
    }
    let k = split(n);
    let left = s.perfect(k.trailing_zeros(), a >> k.trailing_zeros())?;
    let right = range_root(s, a + k, b)?;
    Ok(node_hash(&left, &right))
}

/// The root of the first `size` leaves.
pub fn tree_root<S: Subtrees>(s: &mut S, size: u64) -> Result<Hash, S::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_root(s, 0, size)
}

/// Lower-case hex of a hash.
pub fn to_hex(h: &Hash) -> String {
    hex::encode(h)
}

/// A hash from 64 hex digits.
pub fn from_hex(s: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// The message a checkpoint signs: the tree size, its root and when it was issued, one per
/// line after a fixed header, so the signature covers nothing but these three facts.
pub fn checkpoint_message(tree_size: u64, root: &Hash, issued_at: &str) -> String {
    format!(
        "gatehouse.audit.checkpoint.v1\n{tree_size}\n{}\n{issued_at}\n",
        to_hex(root)
    )
}
