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

/// Why a proof cannot be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    IndexOutOfRange,
    /// The first tree size of a consistency proof is 0 or above the second.
    BadSizes,
}

impl std::fmt::Display for ProofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProofError::IndexOutOfRange => f.write_str("the entry is not in a tree of that size"),
            ProofError::BadSizes => {
                f.write_str("the first tree size must be at least 1 and at most the second")
            }
        }
    }
}

/// The audit path of leaf `m` in the tree of the first `n` leaves (RFC 6962 §2.1.1), the
/// sibling nearest the leaf first.
pub fn inclusion_proof<S: Subtrees>(
    s: &mut S,
    m: u64,
    n: u64,
) -> Result<Result<Vec<Hash>, ProofError>, S::Error> {
    if m >= n {
        return Ok(Err(ProofError::IndexOutOfRange));
    }
    let mut out = Vec::new();
    path(s, m, 0, n, &mut out)?;
    Ok(Ok(out))
}

fn path<S: Subtrees>(
    s: &mut S,
    m: u64,
    a: u64,
    b: u64,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    if b - a == 1 {
        return Ok(());
    }
    let k = split(b - a);
    if m < a + k {
        path(s, m, a, a + k, out)?;
        out.push(range_root(s, a + k, b)?);
    } else {
        path(s, m, a + k, b, out)?;
        out.push(range_root(s, a, a + k)?);
    }
    Ok(())
}

/// The consistency proof between the trees of the first `m` and `n` leaves (RFC 6962 §2.1.2).
pub fn consistency_proof<S: Subtrees>(
    s: &mut S,
    m: u64,
    n: u64,
) -> Result<Result<Vec<Hash>, ProofError>, S::Error> {
    if m == 0 || m > n {
        return Ok(Err(ProofError::BadSizes));
    }
    let mut out = Vec::new();
    if m < n {
        subproof(s, m, 0, n, true, &mut out)?;
    }
    Ok(Ok(out))
}

fn subproof<S: Subtrees>(
    s: &mut S,
    m: u64,
    a: u64,
    b: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = b - a;
    if m == n {
        if !complete {
            out.push(range_root(s, a, b)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(s, m, a, a + k, complete, out)?;
        out.push(range_root(s, a + k, b)?);
    } else {
        subproof(s, m - k, a + k, b, false, out)?;
        out.push(range_root(s, a, a + k)?);
    }
    Ok(())
}

/// Shifts `fn_` and `sn` right together until `fn_`'s low bit is set or it is 0.
fn shift_to_set_bit(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// Whether `proof` shows that `leaf` is leaf `index` of the tree of `size` leaves with `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            shift_to_set_bit(&mut fn_, &mut sn);
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &r == root
}

/// Whether `proof` shows that the tree of `first` leaves with `first_root` is a prefix of the
/// tree of `second` leaves with `second_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> bool {
    if first == 0 || first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let Some((head, rest)) = path.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*head, *head);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            shift_to_set_bit(&mut fn_, &mut sn);
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    &fr == first_root && &sr == second_root && sn == 0
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The leaf inputs of the RFC 6962 reference tests (certificate-transparency, merkle_tree_test).
    const INPUTS: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    /// Tree heads of sizes 0..=8.
    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn leaves() -> Vec<Hash> {
        INPUTS
            .iter()
            .map(|h| leaf_hash(&hex::decode(h).unwrap()))
            .collect()
    }

    fn h(s: &str) -> Hash {
        from_hex(s).unwrap()
    }

    fn hs(v: &[&str]) -> Vec<Hash> {
        v.iter().map(|s| h(s)).collect()
    }

    fn ok<T>(r: Result<Result<T, ProofError>, std::convert::Infallible>) -> T {
        match r {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => panic!("{e}"),
            Err(never) => match never {},
        }
    }

    #[test]
    fn tree_heads_match_the_reference() {
        let l = leaves();
        for n in 0..=8 {
            assert_eq!(to_hex(&root(&l[..n])), ROOTS[n], "size {n}");
            let mut s = InMemory(&l);
            let Ok(r) = tree_root(&mut s, n as u64);
            assert_eq!(to_hex(&r), ROOTS[n], "size {n} from subtrees");
        }
    }

    #[test]
    fn inclusion_proofs_match_the_reference() {
        // (leaf index, tree size, path) from the reference tests.
        let cases: [(u64, u64, Vec<Hash>); 4] = [
            (
                0,
                8,
                hs(&[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]),
            ),
            (
                5,
                8,
                hs(&[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]),
            ),
            (
                2,
                3,
                hs(&["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
            ),
            (
                1,
                5,
                hs(&[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ]),
            ),
        ];
        let l = leaves();
        for (m, n, want) in cases {
            let got = ok(inclusion_proof(&mut InMemory(&l), m, n));
            assert_eq!(got, want, "leaf {m} of {n}");
            let r = h(ROOTS[n as usize]);
            assert!(verify_inclusion(m, n, &l[m as usize], &got, &r));
            assert!(!verify_inclusion(m, n, &l[m as usize], &got, &h(ROOTS[0])));
        }
    }

    #[test]
    fn consistency_proofs_match_the_reference() {
        let cases: [(u64, u64, Vec<Hash>); 4] = [
            (1, 1, vec![]),
            (
                1,
                8,
                hs(&[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]),
            ),
            (
                6,
                8,
                hs(&[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]),
            ),
            (
                2,
                5,
                hs(&[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ]),
            ),
        ];
        let l = leaves();
        for (m, n, want) in cases {
            let got = ok(consistency_proof(&mut InMemory(&l), m, n));
            assert_eq!(got, want, "{m} -> {n}");
            let (r1, r2) = (h(ROOTS[m as usize]), h(ROOTS[n as usize]));
            assert!(verify_consistency(m, n, &r1, &r2, &got), "{m} -> {n}");
            if m != n {
                assert!(
                    !verify_consistency(m, n, &r2, &r2, &got),
                    "{m} -> {n} wrong first"
                );
            }
        }
    }

    #[test]
    fn bad_indices_and_sizes_are_refused() {
        let l = leaves();
        assert_eq!(
            inclusion_proof(&mut InMemory(&l), 8, 8),
            Ok(Err(ProofError::IndexOutOfRange))
        );
        assert_eq!(
            consistency_proof(&mut InMemory(&l), 0, 8),
            Ok(Err(ProofError::BadSizes))
        );
        assert_eq!(
            consistency_proof(&mut InMemory(&l), 5, 4),
            Ok(Err(ProofError::BadSizes))
        );
        assert!(!verify_inclusion(3, 3, &l[0], &[], &l[0]));
    }

    #[test]
    fn the_recorder_asks_for_every_subtree_the_proof_uses() {
        struct Map(std::collections::HashMap<(u32, u64), Hash>);
        impl Subtrees for Map {
            type Error = (u32, u64);
            fn perfect(&mut self, level: u32, index: u64) -> Result<Hash, (u32, u64)> {
                self.0.get(&(level, index)).copied().ok_or((level, index))
            }
        }
        let l: Vec<Hash> = (0..1000u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for (m, n) in [(637, 1000), (0, 999), (998, 999), (511, 512)] {
            let mut rec = Recorder::default();
            let Ok(_) = inclusion_proof(&mut rec, m, n);
            let Ok(_) = consistency_proof(&mut rec, m + 1, n);
            let mut mem = InMemory(&l);
            let map = rec
                .0
                .iter()
                .map(|&(lv, i)| {
                    let Ok(h) = mem.perfect(lv, i);
                    ((lv, i), h)
                })
                .collect();
            let mut map = Map(map);
            assert_eq!(
                inclusion_proof(&mut map, m, n).unwrap(),
                Ok(ok(inclusion_proof(&mut InMemory(&l), m, n)))
            );
            assert_eq!(
                consistency_proof(&mut map, m + 1, n).unwrap(),
                Ok(ok(consistency_proof(&mut InMemory(&l), m + 1, n)))
            );
        }
    }

    proptest! {
        #[test]
        fn every_proof_verifies_and_a_changed_leaf_does_not(n in 1u64..80, pick in 0u64..1000, second in 0u64..80) {
            let l: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let r = root(&l);
            let m = pick % n;
            let p = ok(inclusion_proof(&mut InMemory(&l), m, n));
            prop_assert!(verify_inclusion(m, n, &l[m as usize], &p, &r));
            let other = leaf_hash(b"forged");
            prop_assert!(!verify_inclusion(m, n, &other, &p, &r));
            // Consistency from every smaller size to n.
            let first = 1 + second % n;
            let c = ok(consistency_proof(&mut InMemory(&l), first, n));
            let r1 = root(&l[..first as usize]);
            prop_assert!(verify_consistency(first, n, &r1, &r, &c));
            let mut forged = l.clone();
            forged[(first - 1) as usize] = other;
            let rf = root(&forged[..first as usize]);
            prop_assert!(!verify_consistency(first, n, &rf, &r, &c));
        }

        #[test]
        fn the_accumulator_agrees_with_subtrees(n in 0u64..200) {
            let l: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect();
            let mut acc = Accumulator::default();
            for x in &l { acc.push(*x); }
            let Ok(r) = tree_root(&mut InMemory(&l), n);
            prop_assert_eq!(acc.root(), r);
            prop_assert_eq!(acc.size(), n);
        }
    }
}
