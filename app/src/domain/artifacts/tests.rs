//! Artifact paths, the model digest and its manifest, drift between recorded and found files, media
//! types.

use super::*;

const RUN: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn run_and_model_paths_parse() {
    let p = parse_store_path(&format!("3/{RUN}/artifacts/model/MLmodel")).unwrap();
    assert_eq!(
        p.root,
        Root::Run {
            experiment_id: 3,
            run_id: RUN.into()
        }
    );
    assert_eq!(p.rel, "model/MLmodel");
    assert_eq!(p.key(), format!("3/{RUN}/artifacts/model/MLmodel"));
    let m = parse_store_path(&format!("1/models/m-{RUN}/artifacts")).unwrap();
    assert_eq!(m.rel, "");
    assert_eq!(
        m.root.uri(),
        format!("mlflow-artifacts:/1/models/m-{RUN}/artifacts")
    );
    assert_eq!(
        parse_store_path(&format!("1/{RUN}/artifacts/dir/"))
            .unwrap()
            .rel,
        "dir"
    );
}

#[test]
fn escapes_and_foreign_shapes_are_refused() {
    for bad in [
        format!("1/{RUN}/artifacts/../other"),
        format!("1/{RUN}/artifacts/a/../../x"),
        format!("1/{RUN}/artifacts/./x"),
        format!("1/{RUN}/artifacts//x"),
        format!("1/{RUN}/artifacts/a\\b"),
        format!("1/{RUN}/artifacts/a\tb"),
        format!("1/{RUN}/elsewhere/x"),
        format!("1/{RUN}"),
        "x/y/artifacts/z".to_string(),
        "-1/abc/artifacts".to_string(),
        "1/models/m-zz/artifacts/x".to_string(),
        format!("1/models/{RUN}/artifacts/x"),
        "../../etc/passwd".to_string(),
    ] {
        assert!(parse_store_path(&bad).is_err(), "{bad} was accepted");
    }
    assert!(check_relative("/etc/passwd").is_err());
    assert_eq!(check_relative("").unwrap(), "");
}

#[test]
fn digest_is_over_the_sorted_manifest() {
    let a = FileEntry {
        path: "b.txt".into(),
        size: 3,
        sha256: "aa".into(),
    };
    let b = FileEntry {
        path: "MLmodel".into(),
        size: 10,
        sha256: "bb".into(),
    };
    let c = FileEntry {
        path: "a/b".into(),
        size: 1,
        sha256: "cc".into(),
    };
    // Bytewise order: upper case before lower case, `a/b` before `b.txt`.
    assert_eq!(
        manifest_text(&[a.clone(), b.clone(), c.clone()]),
        "MLmodel\t10\tbb\na/b\t1\tcc\nb.txt\t3\taa\n"
    );
    let d1 = model_digest(&[a.clone(), b.clone(), c.clone()]);
    assert_eq!(d1, model_digest(&[c.clone(), a.clone(), b.clone()]));
    assert_eq!(
        d1,
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(
                b"MLmodel\t10\tbb\na/b\t1\tcc\nb.txt\t3\taa\n"
            ))
        )
    );
    let mut changed = a.clone();
    changed.sha256 = "ab".into();
    assert_ne!(d1, model_digest(&[changed, b, c]));
    // The empty manifest is the hash of nothing.
    assert_eq!(
        model_digest(&[]),
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn drift_names_each_difference() {
    let f = |p: &str, h: &str| FileEntry {
        path: p.into(),
        size: 1,
        sha256: h.into(),
    };
    let d = drift(&[f("a", "1"), f("b", "2")], &[f("a", "9"), f("c", "3")]);
    assert_eq!(d.changed, vec!["a"]);
    assert_eq!(d.missing, vec!["b"]);
    assert_eq!(d.extra, vec!["c"]);
    assert!(!d.is_clean());
    assert_eq!(d.describe(), "changed: a; missing: b; added: c");
    assert!(drift(&[f("a", "1")], &[f("a", "1")]).is_clean());
}

#[test]
fn documents_are_never_served_as_documents() {
    assert_eq!(media_type("x/report.html"), "application/octet-stream");
    assert_eq!(media_type("plot.svg"), "application/octet-stream");
    assert_eq!(media_type("a.PNG"), "image/png");
    assert_eq!(media_type("model/MLmodel"), "text/plain; charset=utf-8");
    assert_eq!(media_type("data.csv"), "text/csv; charset=utf-8");
}
