#![allow(
    clippy::too_many_lines,
    reason = "a test reads as one scenario, top to bottom"
)]

use super::*;

const NOW: i64 = 1_795_000_000_000;

fn evidence() -> Evidence {
    Evidence {
        model: "credit-default".into(),
        version: 4,
        alias: "production".into(),
        risk_tier: "medium".into(),
        champion: Some(3),
        run: Some(RunEvidence {
            run_id: "a".repeat(32),
            author: "ana".into(),
            at_ms: NOW - 2 * DAY_MS,
            metrics: [("auc".to_string(), 0.81), ("log_loss".to_string(), 0.4)]
                .into_iter()
                .collect(),
        }),
        datasets: vec![DatasetEvidence {
            name: "loans-2026q3".into(),
            digest: Some("9f2c".into()),
            source: "s3://bucket/loans".into(),
        }],
        fairness: Some(FairnessEvidence {
            report_id: 7,
            verdict: "pass".into(),
            sentence: "Every group within 0.8–1.25.".into(),
            attributes: vec!["sex".into(), "age_band".into()],
            at_ms: NOW - DAY_MS,
        }),
        ab_test: Some(AbEvidence {
            test_id: 2,
            name: "v4 challenger".into(),
            decision: "ship".into(),
            sentence: "Ship.".into(),
            at_ms: NOW - DAY_MS,
        }),
        artifact: Some(ArtifactEvidence {
            source: "logged model m-0123".into(),
            model_id: Some("m-0123".into()),
            digest: "sha256:ab".into(),
            files: 7,
            bytes: 10_000,
            sealed: true,
            verified: Some(ArtifactVerification {
                ok: true,
                detail: String::new(),
            }),
        }),
        policy: PolicyRef {
            scope: "*".into(),
            version: 0,
            sha256: String::new(),
        },
    }
}

fn status(checks: &[Check], id: &str) -> CheckStatus {
    checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {checks:?}"))
        .status
}

#[test]
fn the_default_policy_parses() {
    let p = Policy::default_policy();
    assert_eq!(p.protected_aliases, vec!["production".to_string()]);
    assert_eq!(p.approvals_needed("medium", false), 2);
    assert_eq!(p.approvals_needed("low", false), 1);
    assert_eq!(p.approvals_needed("high", true), 1);
    assert!(p.is_protected("Production"));
    assert!(!p.is_protected("staging"));
    assert!(p.waivable("metric:auc") && p.waivable("fairness"));
    assert_eq!(p.waiver_roles, vec![Role::Reviewer]);
}

#[test]
fn mistakes_are_reported_with_their_line() {
    let cases = [
        (
            "protected_aliases = [\"production\"]\nfoo = 1\n",
            2,
            "unknown field",
        ),
        ("[approvals]\nmedium = 0\n", 2, "between 1 and 1000"),
        ("[approvals]\nextreme = 2\n", 2, "unknown risk tier"),
        (
            "\n\n[[metrics]]\nname = \"auc\"\nmin = 0.9\nmax = 0.1\n",
            3,
            "above max",
        ),
        ("[[metrics]]\nname = \"auc\"\n", 1, "needs a min"),
        (
            "[waivers]\nchecks = [\"fairness\", \"coffee\"]\n",
            2,
            "unknown check 'coffee'",
        ),
        ("[waivers]\nroles = [\"janitor\"]\n", 2, "unknown role"),
        ("protected_aliases = [\"v1\"]\n", 1, "not a valid alias"),
        ("max_evidence_age_days = \"soon\"\n", 1, "invalid type"),
        ("[fairness\nrequired = true\n", 1, ""),
    ];
    for (text, line, needle) in cases {
        let e = parse_policy(text).expect_err(text);
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn a_version_that_meets_everything_passes_every_check() {
    let p = Policy::default_policy();
    let checks = evaluate(&p, &evidence(), NOW, &[]);
    let ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["metric:auc", "fairness", "ab_test", "lineage", "artifact"]
    );
    assert!(all_clear(&checks), "{checks:?}");
}

/// The evaluation table: each check pass, fail, missing and waived.
#[test]
fn each_check_passes_fails_goes_missing_and_can_be_waived() {
    let p = Policy::default_policy();
    type Edit = fn(&mut Evidence);
    let table: [(&str, Edit, CheckStatus); 12] = [
        (
            "metric:auc",
            |e| {
                e.run.as_mut().unwrap().metrics.insert("auc".into(), 0.65);
            },
            CheckStatus::Fail,
        ),
        (
            "metric:auc",
            |e| {
                e.run.as_mut().unwrap().metrics.remove("auc");
            },
            CheckStatus::Missing,
        ),
        ("metric:auc", |e| e.run = None, CheckStatus::Missing),
        (
            "metric:auc",
            |e| e.run.as_mut().unwrap().at_ms = NOW - 100 * DAY_MS,
            CheckStatus::Fail,
        ),
        (
            "fairness",
            |e| e.fairness.as_mut().unwrap().verdict = "fail".into(),
            CheckStatus::Fail,
        ),
        ("fairness", |e| e.fairness = None, CheckStatus::Missing),
        (
            "ab_test",
            |e| e.ab_test.as_mut().unwrap().decision = "roll_back".into(),
            CheckStatus::Fail,
        ),
        ("ab_test", |e| e.ab_test = None, CheckStatus::Missing),
        (
            "ab_test",
            |e| {
                e.ab_test = None;
                e.champion = None;
            },
            CheckStatus::Pass,
        ),
        (
            "lineage",
            |e| e.datasets[0].digest = None,
            CheckStatus::Fail,
        ),
        ("lineage", |e| e.datasets.clear(), CheckStatus::Missing),
        (
            "lineage",
            |e| {
                e.datasets.push(DatasetEvidence {
                    name: "b".into(),
                    digest: Some("1".into()),
                    source: String::new(),
                })
            },
            CheckStatus::Pass,
        ),
    ];
    for (id, edit, want) in table {
        let mut ev = evidence();
        edit(&mut ev);
        let checks = evaluate(&p, &ev, NOW, &[]);
        if id == "ab_test" && want == CheckStatus::Pass {
            assert!(
                checks.iter().all(|c| c.id != "ab_test"),
                "no champion: no A/B check"
            );
            continue;
        }
        assert_eq!(status(&checks, id), want, "{id}: {checks:?}");
        assert_eq!(all_clear(&checks), want == CheckStatus::Pass, "{id}");
        if want != CheckStatus::Pass {
            let w = Waiver {
                check: id.into(),
                by: "rita".into(),
                reason: "Known gap, tracked in RISK-12".into(),
                at: "2026-11-27T10:00:00Z".into(),
            };
            let waived = evaluate(&p, &ev, NOW, std::slice::from_ref(&w));
            assert_eq!(status(&waived, id), CheckStatus::Waived, "{id}");
            assert!(all_clear(&waived), "{id}: {waived:?}");
            let c = waived.iter().find(|c| c.id == id).unwrap();
            assert_eq!(c.waiver.as_ref(), Some(&w));
        }
    }
}

#[test]
fn waivers_follow_the_policy() {
    let p = parse_policy(
        "[[metrics]]\nname = \"auc\"\nmin = 0.9\n[fairness]\nrequired = true\n[waivers]\nchecks = [\"fairness\"]\nroles = [\"admin\"]\n",
    )
    .unwrap();
    let mut ev = evidence();
    ev.fairness = None;
    let checks = evaluate(&p, &ev, NOW, &[]);
    let metric = checks.iter().find(|c| c.id == "metric:auc").unwrap();
    let fairness = checks.iter().find(|c| c.id == "fairness").unwrap();
    let reason = "Audited manually, see ticket 4411";
    assert!(waiver_refusal(&p, metric, &[Role::Admin], reason)
        .unwrap()
        .contains("does not allow"));
    assert!(waiver_refusal(&p, fairness, &[Role::Reviewer], reason)
        .unwrap()
        .contains("Only admin"));
    assert!(waiver_refusal(&p, fairness, &[Role::Admin], "ok")
        .unwrap()
        .contains("reason"));
    assert_eq!(waiver_refusal(&p, fairness, &[Role::Admin], reason), None);
}

#[test]
fn requesters_and_optionally_run_authors_cannot_approve() {
    let p = Policy::default_policy();
    assert!(approval_refusal(&p, "sam", "sam", None).is_some());
    assert!(approval_refusal(&p, "sam", "ana", Some("ana")).is_some());
    assert_eq!(approval_refusal(&p, "sam", "rita", Some("ana")), None);
    let lenient = parse_policy("[separation_of_duties]\nrun_author_may_approve = true\n").unwrap();
    assert_eq!(approval_refusal(&lenient, "sam", "ana", Some("ana")), None);
    assert!(approval_refusal(&lenient, "sam", "sam", Some("ana")).is_some());
}

#[test]
fn the_digest_covers_the_evidence_and_nothing_else() {
    let a = evidence();
    let mut b = evidence();
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a.digest().len(), 64);
    b.fairness.as_mut().unwrap().report_id = 8;
    assert_ne!(a.digest(), b.digest());
    // Canonical: key order in the JSON does not depend on struct field order.
    assert!(a.canonical().starts_with("{\"ab_test\":"));
}

#[test]
fn alias_names_follow_mlflow() {
    for ok in ["production", "champion", "canary-eu", "shadow_2"] {
        assert!(valid_alias(ok), "{ok}");
    }
    for bad in ["", "v1", "V12", "latest", "pro duction", "prod/1"] {
        assert!(!valid_alias(bad), "{bad}");
    }
}

#[test]
fn the_artifact_check_needs_sealed_bytes_that_still_match() {
    let policy = parse_policy(DEFAULT_POLICY).unwrap();
    assert!(policy.require_artifact);
    let status = |ev: &Evidence| {
        let checks = evaluate(&policy, ev, NOW, &[]);
        let c = checks.iter().find(|c| c.id == "artifact").unwrap().clone();
        (c.status, c.detail)
    };
    let mut ev = evidence();
    let (s, d) = status(&ev);
    assert_eq!(s, CheckStatus::Pass);
    assert!(d.contains("7 files") && d.contains("sha256:ab"), "{d}");
    if let Some(a) = ev.artifact.as_mut() {
        a.verified = Some(ArtifactVerification {
            ok: false,
            detail: "changed: model.pkl".into(),
        });
    }
    let (s, d) = status(&ev);
    assert_eq!(s, CheckStatus::Fail);
    assert!(d.contains("changed: model.pkl"), "{d}");
    if let Some(a) = ev.artifact.as_mut() {
        a.sealed = false;
    }
    assert_eq!(status(&ev).0, CheckStatus::Fail);
    ev.artifact = None;
    assert_eq!(status(&ev).0, CheckStatus::Missing);
    // Not waivable unless a policy says so; a policy without [artifact] has no such check.
    let checks = evaluate(&policy, &ev, NOW, &[]);
    assert!(!checks.iter().find(|c| c.id == "artifact").unwrap().waivable);
    let lax = parse_policy("[approvals]\nmedium = 1\n").unwrap();
    assert!(evaluate(&lax, &ev, NOW, &[])
        .iter()
        .all(|c| c.id != "artifact"));
    let waivable = parse_policy(
        "[artifact]\nrequired = true\n[waivers]\nchecks = [\"artifact\"]\nroles = [\"reviewer\"]\n",
    )
    .unwrap();
    assert!(
        evaluate(&waivable, &ev, NOW, &[])
            .iter()
            .find(|c| c.id == "artifact")
            .unwrap()
            .waivable
    );
}
