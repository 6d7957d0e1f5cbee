//! The verdict rules, bad input, formatting and properties that hold for any input.

use super::*;

fn three_metric_request() -> AnalysisRequest {
    let mut req = binomial_request(1150.0, 10000.0, 1000.0, 10000.0, 0.05);
    req.min_units = 100.0;
    req.correction = Correction::Holm;
    req.metrics.push(MetricSpec {
        name: "p95 latency".into(),
        kind: MetricKind::Continuous,
        direction: Direction::Decrease,
        role: MetricRole::Guardrail,
        tolerance: Some(0.02),
        data: vec![
            continuous_row(
                "control",
                10000.0,
                2_000_000.0,
                2_000_000.0f64.powi(2) / 10000.0 + 9999.0 * 900.0,
            ),
            continuous_row(
                "treatment",
                10000.0,
                2_002_000.0,
                2_002_000.0f64.powi(2) / 10000.0 + 9999.0 * 900.0,
            ),
        ],
    });
    req
}

#[test]
fn verdict_ship_when_goals_better_and_guardrails_hold() {
    let a = analyze(&three_metric_request(), Context { days: Some(14) }).unwrap();
    assert_eq!(a.verdict.decision, Decision::Ship, "{}", a.verdict.sentence);
    assert_eq!(a.verdict.variant.as_deref(), Some("treatment"));
    assert!(
        a.verdict
            .sentence
            .starts_with("Ship: conversion +15.0% (95% CI +"),
        "{}",
        a.verdict.sentence
    );
    assert!(
        a.verdict
            .sentence
            .ends_with("no guardrail worse; 14 days, 20,000 users."),
        "{}",
        a.verdict.sentence
    );
}

#[test]
fn verdict_roll_back_when_a_guardrail_is_worse_beyond_tolerance() {
    let mut req = three_metric_request();
    // Latency up 10 % with a tight interval: far beyond the 2 % tolerance.
    req.metrics[1].data[1] = continuous_row(
        "treatment",
        10000.0,
        2_200_000.0,
        2_200_000.0f64.powi(2) / 10000.0 + 9999.0 * 900.0,
    );
    let a = analyze(&req, Context { days: Some(9) }).unwrap();
    assert_eq!(
        a.verdict.decision,
        Decision::RollBack,
        "{}",
        a.verdict.sentence
    );
    assert!(
        a.verdict.sentence.contains("p95 latency +10.0%"),
        "{}",
        a.verdict.sentence
    );
    assert!(
        a.verdict
            .sentence
            .contains("worse beyond its 2.0% tolerance"),
        "{}",
        a.verdict.sentence
    );
    // Within tolerance: +1 % latency is not a reason to roll back.
    req.metrics[1].data[1] = continuous_row(
        "treatment",
        10000.0,
        2_020_000.0,
        2_020_000.0f64.powi(2) / 10000.0 + 9999.0 * 900.0,
    );
    let a = analyze(&req, Context::default()).unwrap();
    assert_eq!(a.verdict.decision, Decision::Ship, "{}", a.verdict.sentence);
}

#[test]
fn verdict_keep_running_says_how_many_more_units() {
    let mut req = binomial_request(1010.0, 10000.0, 1000.0, 10000.0, 0.05);
    req.min_units = 100.0;
    let a = analyze(&req, Context { days: Some(3) }).unwrap();
    assert_eq!(a.verdict.decision, Decision::KeepRunning);
    let need = a.verdict.units_still_needed.unwrap();
    assert!(
        need > 10000.0,
        "a 5 % effect on a 10 % base needs ~58k per arm: {need}"
    );
    assert!(
        a.verdict
            .sentence
            .contains("more units per variant are needed to find a 5.0% effect"),
        "{}",
        a.verdict.sentence
    );
}

#[test]
fn verdict_invalid_on_sample_ratio_mismatch_or_small_samples() {
    let mut req = three_metric_request();
    req.variants[0].units = Some(9000.0);
    req.variants[1].units = Some(11000.0);
    let a = analyze(&req, Context::default()).unwrap();
    assert!(a.srm.detected);
    assert_eq!(a.verdict.decision, Decision::Invalid);
    assert!(
        a.verdict
            .sentence
            .starts_with("Invalid: sample-ratio mismatch"),
        "{}",
        a.verdict.sentence
    );

    let mut req = binomial_request(11.0, 50.0, 5.0, 50.0, 0.05);
    req.min_units = 100.0;
    let a = analyze(&req, Context::default()).unwrap();
    assert_eq!(a.verdict.decision, Decision::Invalid);
    assert!(
        a.verdict.sentence.contains("too few units"),
        "{}",
        a.verdict.sentence
    );
}

#[test]
fn correction_changes_significance_across_goals() {
    // Two goals at p ≈ 0.03 each: significant alone, not after Holm (0.06), yes after BH.
    let mut req = binomial_request(1090.0, 10000.0, 1000.0, 10000.0, 0.05);
    let second = MetricSpec {
        name: "signup".into(),
        ..req.metrics[0].clone()
    };
    req.metrics.push(second);
    let p = analyze(&req, Context::default()).unwrap().metrics[0].comparisons[0].p_value;
    assert!(p < 0.05 && p > 0.025, "setup: p = {p}");
    for (corr, sig) in [
        (Correction::None, true),
        (Correction::Holm, false),
        (Correction::BenjaminiHochberg, true),
    ] {
        req.correction = corr;
        let a = analyze(&req, Context::default()).unwrap();
        assert_eq!(a.metrics[0].comparisons[0].significant, sig, "{corr:?}");
    }
}

#[test]
fn implausible_lifts_are_flagged() {
    let mut req = binomial_request(3000.0, 10000.0, 1000.0, 10000.0, 0.05);
    req.max_plausible_lift = 0.5;
    let a = analyze(&req, Context::default()).unwrap();
    assert!(a.metrics[0].comparisons[0].implausible);
    assert_eq!(a.verdict.warnings.len(), 1);
}

#[test]
fn bad_input_names_metric_variant_and_field() {
    type Edit = Box<dyn Fn(&mut AnalysisRequest)>;
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|r| r.metrics[0].data[1].conversions = Some(20000.0)),
            "metrics[0].data[1].conversions",
            "exceed units",
        ),
        (
            Box::new(|r| r.metrics[0].data[0].conversions = Some(-1.0)),
            "metrics[0].data[0].conversions",
            "negative",
        ),
        (
            Box::new(|r| r.metrics[0].data[1].variant = "ghost".into()),
            "metrics[0].data[1].variant",
            "'ghost' is not in the experiment",
        ),
        (
            Box::new(|r| {
                r.metrics[0].data.pop();
            }),
            "metrics[0].data",
            "no data for variant 'treatment'",
        ),
        (
            Box::new(|r| r.metrics[0].data[0].conversions = Some(0.0)),
            "metrics[0].data",
            "mean of zero",
        ),
        (
            Box::new(|r| r.metrics[0].data[0].units = Some(f64::INFINITY)),
            "metrics[0].data[0].units",
            "finite",
        ),
        (
            Box::new(|r| r.control = "nobody".into()),
            "control",
            "not one of the variants",
        ),
        (
            Box::new(|r| r.variants[1].weight = 0.0),
            "variants[1].weight",
            "positive",
        ),
    ];
    for (edit, field, text) in cases {
        let mut req = binomial_request(1100.0, 10000.0, 1000.0, 10000.0, 0.05);
        edit(&mut req);
        let e = analyze(&req, Context::default()).unwrap_err();
        assert_eq!(e.field, field, "{e:?}");
        assert!(e.message.contains(text), "{e:?}");
        if field.starts_with("metrics[0].data[") {
            assert!(e.message.contains("metric 'conversion'"), "{e:?}");
        }
    }
    let mut req = binomial_request(1.0, 10.0, 1.0, 10.0, 0.05);
    req.metrics[0].kind = MetricKind::Continuous;
    req.metrics[0].data = vec![
        continuous_row("control", 1.0, 3.0, 9.0),
        continuous_row("treatment", 5.0, 3.0, 9.0),
    ];
    let e = analyze(&req, Context::default()).unwrap_err();
    assert_eq!(e.field, "metrics[0].data[0].n");
    assert!(
        e.message.contains("variant 'control'") && e.message.contains("at least 2"),
        "{e:?}"
    );
    req.metrics[0].data[0] = continuous_row("control", 5.0, 10.0, 1.0);
    let e = analyze(&req, Context::default()).unwrap_err();
    assert_eq!(e.field, "metrics[0].data[0].sum_squares");
}

#[test]
fn multi_arm_comparisons_each_match_their_pair() {
    // Four arms, unequal weights: each treatment against the control equals the two-arm result.
    let arms = [
        ("control", 1000.0, 10000.0),
        ("b", 1100.0, 10000.0),
        ("c", 520.0, 5000.0),
        ("d", 2050.0, 20000.0),
    ];
    let mut req = binomial_request(0.0, 1.0, 0.0, 1.0, 0.05);
    req.variants = arms
        .iter()
        .map(|(n, _, u)| VariantSpec {
            name: (*n).into(),
            weight: *u,
            units: Some(*u),
        })
        .collect();
    req.metrics[0].data = arms
        .iter()
        .map(|(n, x, u)| DataRow {
            variant: (*n).into(),
            units: Some(*u),
            conversions: Some(*x),
            ..Default::default()
        })
        .collect();
    let a = analyze(&req, Context::default()).unwrap();
    assert_eq!(a.metrics[0].comparisons.len(), 3);
    assert!(!a.srm.detected);
    for (i, (name, x, u)) in arms.iter().enumerate().skip(1) {
        let two = analyze(
            &binomial_request(*x, *u, 1000.0, 10000.0, 0.05),
            Context::default(),
        )
        .unwrap();
        let (c, t) = (
            &a.metrics[0].comparisons[i - 1],
            &two.metrics[0].comparisons[0],
        );
        assert_eq!(c.variant, *name);
        assert_eq!(c.p_value, t.p_value);
        assert_eq!(c.rel_lift_ci, t.rel_lift_ci);
    }
}

proptest! {
    #[test]
    fn swapping_arms_mirrors_the_difference(
        nc in 50u32..20000, nt in 50u32..20000, rc in 0.01f64..0.99, rt in 0.01f64..0.99,
    ) {
        let (xc, xt) = ((nc as f64 * rc).round().max(1.0), (nt as f64 * rt).round().max(1.0));
        let a = analyze(&binomial_request(xt, nt as f64, xc, nc as f64, 0.05), Context::default()).unwrap();
        let b = analyze(&binomial_request(xc, nc as f64, xt, nt as f64, 0.05), Context::default()).unwrap();
        let (ca, cb) = (&a.metrics[0].comparisons[0], &b.metrics[0].comparisons[0]);
        prop_assert!((ca.abs_diff + cb.abs_diff).abs() < 1e-12);
        prop_assert!((ca.p_value - cb.p_value).abs() < 1e-12);
        prop_assert!((ca.abs_diff_ci[0] + cb.abs_diff_ci[1]).abs() < 1e-12);
        // The relative lift mirrors: (1 + L)(1 + L') = 1.
        prop_assert!(((1.0 + ca.rel_lift) * (1.0 + cb.rel_lift) - 1.0).abs() < 1e-9);
        prop_assert!(ca.rel_lift.signum() == -cb.rel_lift.signum() || ca.rel_lift == 0.0);
    }

    #[test]
    fn p_values_and_chances_are_probabilities(
        nc in 2u32..5000, nt in 2u32..5000, mc in 0.1f64..100.0, mt in 0.1f64..100.0,
        sc in 0.0f64..50.0, st in 0.0f64..50.0, seq in any::<bool>(),
    ) {
        let row = |v: &str, n: u32, m: f64, s: f64| {
            let n = n as f64;
            continuous_row(v, n, n * m, (n - 1.0) * s * s + n * m * m)
        };
        let mut req = binomial_request(0.0, 1.0, 0.0, 1.0, 0.05);
        req.metrics[0].kind = MetricKind::Continuous;
        req.metrics[0].data = vec![row("control", nc, mc, sc), row("treatment", nt, mt, st)];
        req.sequential = seq;
        let a = analyze(&req, Context::default()).unwrap();
        let c = &a.metrics[0].comparisons[0];
        for p in [c.p_value, c.decision_p_value, c.p_value_adjusted, c.chance_to_win, a.srm.p_value, c.power] {
            prop_assert!((0.0..=1.0).contains(&p), "{p} out of [0, 1]: {c:?}");
        }
        prop_assert!(c.risk >= 0.0 && c.risk_control >= 0.0);
    }
}
