//! Inclusion and consistency proofs (RFC 6962 §2.1.1–2) and their verification
//! (RFC 9162 §2.1.3–4).

use super::{node_hash, range_root, split, Hash, Subtrees};

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
