//! The Merkle tree against the RFC 6962 reference vectors, and proofs checked by property.

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
