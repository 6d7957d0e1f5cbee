//! The A/B statistics against scipy / statsmodels fixtures (`app/fixtures/ab/`), plus the
//! verdict rules, bad input and properties.

use super::*;
use proptest::prelude::*;
use serde_json::Value;

const FIXTURES: &str = include_str!("../../../fixtures/ab/ab_fixtures.json");

fn fixtures() -> Value {
    serde_json::from_str(FIXTURES).expect("fixture file is JSON")
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("fixture field {k} in {v}"))
}

fn pair(v: &Value, k: &str) -> [f64; 2] {
    [v[k][0].as_f64().unwrap(), v[k][1].as_f64().unwrap()]
}

/// Equal to 1e-9 relative (absolute below 1e-300, where only underflow differs).
fn close(what: &str, got: f64, want: f64) {
    let ok = if want == 0.0 {
        got.abs() < 1e-300
    } else {
        ((got - want) / want).abs() <= 1e-9
    };
    assert!(ok, "{what}: got {got:e}, want {want:e}");
}

fn binomial_request(xt: f64, nt: f64, xc: f64, nc: f64, alpha: f64) -> AnalysisRequest {
    AnalysisRequest {
        alpha,
        control: "control".into(),
        variants: vec![
            VariantSpec {
                name: "control".into(),
                weight: nc,
                units: None,
            },
            VariantSpec {
                name: "treatment".into(),
                weight: nt,
                units: None,
            },
        ],
        metrics: vec![MetricSpec {
            name: "conversion".into(),
            kind: MetricKind::Binomial,
            direction: Direction::Increase,
            role: MetricRole::Goal,
            tolerance: None,
            data: vec![
                DataRow {
                    variant: "control".into(),
                    units: Some(nc),
                    conversions: Some(xc),
                    ..Default::default()
                },
                DataRow {
                    variant: "treatment".into(),
                    units: Some(nt),
                    conversions: Some(xt),
                    ..Default::default()
                },
            ],
        }],
        correction: Correction::None,
        sequential: false,
        sequential_tuning: 5000.0,
        mde: 0.05,
        min_units: 0.0,
        max_plausible_lift: 10.0,
    }
}

fn continuous_row(variant: &str, n: f64, sum: f64, sum_squares: f64) -> DataRow {
    DataRow {
        variant: variant.into(),
        n: Some(n),
        sum: Some(sum),
        sum_squares: Some(sum_squares),
        ..Default::default()
    }
}

#[test]
fn binomial_matches_statsmodels() {
    for case in fixtures()["binomial"].as_array().unwrap() {
        let (xt, nt, xc, nc, alpha) = (
            f(case, "xt"),
            f(case, "nt"),
            f(case, "xc"),
            f(case, "nc"),
            f(case, "alpha"),
        );
        let a = analyze(&binomial_request(xt, nt, xc, nc, alpha), Context::default()).unwrap();
        let c = &a.metrics[0].comparisons[0];
        let label = format!("{xt}/{nt} vs {xc}/{nc} at {alpha}");
        close(&format!("{label} z"), c.statistic, f(case, "z"));
        close(&format!("{label} p"), c.p_value, f(case, "p_value"));
        let ci = pair(case, "abs_diff_ci");
        close(&format!("{label} ci lo"), c.abs_diff_ci[0], ci[0]);
        close(&format!("{label} ci hi"), c.abs_diff_ci[1], ci[1]);
        close(&format!("{label} lift"), c.rel_lift, f(case, "rel_lift"));
        let li = pair(case, "rel_lift_ci");
        close(&format!("{label} lift lo"), c.rel_lift_ci[0], li[0]);
        close(&format!("{label} lift hi"), c.rel_lift_ci[1], li[1]);
    }
}

#[test]
fn continuous_matches_scipy_welch() {
    for case in fixtures()["continuous"].as_array().unwrap() {
        let alpha = f(case, "alpha");
        let mut req = binomial_request(0.0, 1.0, 0.0, 1.0, alpha);
        req.metrics[0].kind = MetricKind::Continuous;
        req.metrics[0].data = vec![
            continuous_row(
                "control",
                f(case, "n_c"),
                f(case, "sum_c"),
                f(case, "sum_squares_c"),
            ),
            continuous_row(
                "treatment",
                f(case, "n_t"),
                f(case, "sum_t"),
                f(case, "sum_squares_t"),
            ),
        ];
        let a = analyze(&req, Context::default()).unwrap();
        let c = &a.metrics[0].comparisons[0];
        let label = format!("n {} vs {} at {alpha}", f(case, "n_t"), f(case, "n_c"));
        close(&format!("{label} t"), c.statistic, f(case, "t"));
        close(&format!("{label} df"), c.df.unwrap(), f(case, "df"));
        close(&format!("{label} p"), c.p_value, f(case, "p_value"));
        let ci = pair(case, "abs_diff_ci");
        close(&format!("{label} ci lo"), c.abs_diff_ci[0], ci[0]);
        close(&format!("{label} ci hi"), c.abs_diff_ci[1], ci[1]);
        close(&format!("{label} lift"), c.rel_lift, f(case, "rel_lift"));
        let li = pair(case, "rel_lift_ci");
        close(&format!("{label} lift lo"), c.rel_lift_ci[0], li[0]);
        close(&format!("{label} lift hi"), c.rel_lift_ci[1], li[1]);
    }
}

#[test]
fn sample_ratio_check_matches_scipy_chisquare() {
    for case in fixtures()["srm"].as_array().unwrap() {
        let obs: Vec<f64> = case["observed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let w: Vec<f64> = case["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let (chi2, df, p) = chi_square_gof(&obs, &w);
        close(&format!("{obs:?} chi2"), chi2, f(case, "chi2"));
        close(&format!("{obs:?} p"), p, f(case, "p_value"));
        assert_eq!(df, obs.len() as f64 - 1.0);
    }
}

#[test]
fn corrections_match_statsmodels_multipletests() {
    for case in fixtures()["corrections"].as_array().unwrap() {
        let p: Vec<f64> = case["p"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        for (name, got) in [("holm", holm(&p)), ("bh", benjamini_hochberg(&p))] {
            for (i, want) in case[name].as_array().unwrap().iter().enumerate() {
                close(
                    &format!("{name} {p:?}[{i}]"),
                    got[i],
                    want.as_f64().unwrap(),
                );
            }
        }
    }
}

/// A two-arm request with covariates from a CUPED fixture case.
fn cuped_request(case: &Value) -> AnalysisRequest {
    let arms = case["arms"].as_array().unwrap();
    let mut req = binomial_request(0.0, 1.0, 0.0, 1.0, 0.05);
    req.metrics[0].kind = MetricKind::Continuous;
    req.metrics[0].data = ["control", "treatment"]
        .iter()
        .zip(arms)
        .map(|(name, a)| DataRow {
            variant: (*name).into(),
            n: Some(f(a, "n")),
            sum: Some(f(a, "sum")),
            sum_squares: Some(f(a, "sum_squares")),
            sum_x: Some(f(a, "sum_x")),
            sum_x2: Some(f(a, "sum_x2")),
            sum_xy: Some(f(a, "sum_xy")),
            ..Default::default()
        })
        .collect();
    req
}

#[test]
fn cuped_matches_unit_level_adjustment() {
    for case in fixtures()["cuped"].as_array().unwrap() {
        let req = cuped_request(case);
        let a = analyze(&req, Context::default()).unwrap();
        let c = &a.metrics[0].comparisons[0];
        let cu = c.cuped.as_ref().expect("covariates give CUPED figures");
        close("theta", cu.theta, f(case, "theta"));
        close(
            "adjusted control mean",
            cu.control_mean,
            f(case, "control_mean"),
        );
        close(
            "adjusted treatment mean",
            cu.treatment_mean,
            f(case, "treatment_mean"),
        );
        close("adjusted p", cu.p_value, f(case, "p_value"));
        assert!(
            cu.variance_reduction > 0.0,
            "a correlated covariate reduces variance"
        );
        assert_eq!(c.basis, "cuped");
    }
}

#[test]
fn sequential_p_values_use_the_cuped_adjusted_estimate() {
    for (i, case) in fixtures()["cuped"].as_array().unwrap().iter().enumerate() {
        let mut req = cuped_request(case);
        req.sequential = true;
        let a = analyze(&req, Context::default()).unwrap();
        let c = &a.metrics[0].comparisons[0];
        assert_eq!(c.basis, "cuped+sequential");
        let (cu, s) = (c.cuped.as_ref().unwrap(), c.sequential.as_ref().unwrap());
        let n = c.control_units + c.treatment_units;
        // The sequence is centred on the adjusted figures; its half-width gives back their
        // standard error, and the p-value must be the closed form on those.
        for (what, est, ci, p) in [
            ("difference", cu.abs_diff, s.abs_diff_ci, s.p_value),
            ("lift", cu.rel_lift, s.rel_lift_ci, s.rel_lift_p_value),
        ] {
            let hw = (ci[1] - ci[0]) / 2.0;
            close(
                &format!("case {i} {what} centre"),
                (ci[0] + ci[1]) / 2.0,
                est,
            );
            let se = hw / sequential_halfwidth(1.0, n, 0.05, 5000.0);
            close(
                &format!("case {i} {what} p"),
                p,
                sequential_p(est, se, n, 0.05, 5000.0),
            );
            assert_eq!(p < 0.05, ci[0] > 0.0 || ci[1] < 0.0, "case {i} {what}");
        }
        assert_eq!(c.decision_p_value, s.p_value);
    }
}

#[test]
fn power_and_sample_size_match_the_normal_formulas() {
    for case in fixtures()["power"].as_array().unwrap() {
        let (m, vc, vt, n, mde, alpha) = (
            f(case, "mean_c"),
            f(case, "var_c"),
            f(case, "var_t"),
            f(case, "n"),
            f(case, "mde"),
            f(case, "alpha"),
        );
        let d = mde * m.abs();
        close(
            "power",
            power(d, (vt / n + vc / n).sqrt(), alpha),
            f(case, "power"),
        );
        close(
            "units needed",
            units_for_power(d, vt, vc, alpha),
            f(case, "units_needed"),
        );
    }
}

#[test]
fn confidence_sequence_half_width_matches() {
    for case in fixtures()["sequential"].as_array().unwrap() {
        close(
            "half-width",
            sequential_halfwidth(
                f(case, "se"),
                f(case, "n"),
                f(case, "alpha"),
                f(case, "tuning"),
            ),
            f(case, "halfwidth"),
        );
    }
}

const GBSTATS: &str = include_str!("../../../fixtures/ab/sequential_gbstats.json");

/// A two-arm continuous request from a gbstats fixture case.
fn gbstats_request(case: &Value) -> AnalysisRequest {
    let row =
        |v: &str, arm: &Value| continuous_row(v, f(arm, "n"), f(arm, "sum"), f(arm, "sum_squares"));
    let mut req = binomial_request(0.0, 1.0, 0.0, 1.0, f(case, "alpha"));
    req.metrics[0].kind = MetricKind::Continuous;
    req.metrics[0].data = vec![
        row("control", &case["control"]),
        row("treatment", &case["treatment"]),
    ];
    req.sequential = true;
    req.sequential_tuning = f(case, "tuning");
    req
}

#[test]
fn always_valid_p_values_match_gbstats() {
    let doc: Value = serde_json::from_str(GBSTATS).expect("fixture file is JSON");
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for (i, case) in cases.iter().enumerate() {
        let (alpha, tuning) = (f(case, "alpha"), f(case, "tuning"));
        let a = analyze(&gbstats_request(case), Context::default()).unwrap();
        let c = &a.metrics[0].comparisons[0];
        let s = c.sequential.as_ref().unwrap();
        let n = c.control_units + c.treatment_units;
        for (kind, p, ci, est) in [
            ("absolute", s.p_value, s.abs_diff_ci, c.abs_diff),
            ("relative", s.rel_lift_p_value, s.rel_lift_ci, c.rel_lift),
        ] {
            let want = &case[kind];
            close(
                &format!("case {i} {kind} estimate"),
                est,
                f(want, "estimate"),
            );
            close(&format!("case {i} {kind} p"), p, f(want, "p_value"));
            close(
                &format!("case {i} {kind} ci low"),
                ci[0],
                pair(want, "ci")[0],
            );
            close(
                &format!("case {i} {kind} ci high"),
                ci[1],
                pair(want, "ci")[1],
            );
            // The function alone, from the fixture's own estimate and variance.
            close(
                &format!("case {i} {kind} p from estimate"),
                sequential_p(
                    f(want, "estimate"),
                    f(want, "variance").sqrt(),
                    n,
                    alpha,
                    tuning,
                ),
                f(want, "p_value"),
            );
        }
        assert_eq!(
            c.decision_p_value, s.p_value,
            "case {i}: the sequential p decides"
        );
    }
}

#[test]
fn sequential_intervals_are_wider_and_their_p_value_consistent() {
    let mut req = binomial_request(1100.0, 10000.0, 1000.0, 10000.0, 0.05);
    let fixed = analyze(&req, Context::default()).unwrap();
    req.sequential = true;
    let seq = analyze(&req, Context::default()).unwrap();
    let (f0, s0) = (
        &fixed.metrics[0].comparisons[0],
        &seq.metrics[0].comparisons[0],
    );
    let s = s0.sequential.as_ref().unwrap();
    assert!(s.abs_diff_ci[0] < f0.abs_diff_ci[0] && s.abs_diff_ci[1] > f0.abs_diff_ci[1]);
    assert!(s.p_value > f0.p_value, "peeking costs evidence");
    assert_eq!(s0.basis, "sequential");
    // ρ is tuned for the configured α, so the p-value equals α exactly where the interval at α
    // touches zero: scale the difference to the half-width and p must be α.
    let hw = sequential_halfwidth(s0.se, 20000.0, 0.05, 5000.0);
    close(
        "p at the boundary",
        sequential_p(hw, s0.se, 20000.0, 0.05, 5000.0),
        0.05,
    );
}

proptest! {
    #[test]
    fn sequential_p_below_alpha_exactly_when_the_interval_excludes_zero(
        est in -5.0f64..5.0, se in 1e-3f64..3.0, n in 10.0f64..1e6,
        alpha in prop::sample::select(vec![0.01, 0.05, 0.1]), tuning in 100.0f64..100_000.0,
    ) {
        let p = sequential_p(est, se, n, alpha, tuning);
        let hw = sequential_halfwidth(se, n, alpha, tuning);
        prop_assert!((0.0..=1.0).contains(&p));
        // Away from the boundary itself (where rounding decides), the two must agree.
        prop_assume!((est.abs() - hw).abs() > 1e-9 * hw);
        prop_assert_eq!(p < alpha, est.abs() > hw, "p {} hw {} est {}", p, hw, est);
    }
}

#[test]
fn corrections_apply_to_sequential_p_values() {
    // Two goals, each with the same always-valid p: Holm doubles the smaller, BH keeps it.
    let case = {
        let doc: Value = serde_json::from_str(GBSTATS).unwrap();
        doc["cases"][1].clone()
    };
    let mut req = gbstats_request(&case);
    let second = MetricSpec {
        name: "second".into(),
        ..req.metrics[0].clone()
    };
    req.metrics.push(second);
    let p = f(&case["absolute"], "p_value");
    assert!(p < 0.05 && p > 0.025, "setup: p = {p}");
    for (corr, adjusted, sig) in [
        (Correction::None, p, true),
        (Correction::Holm, (2.0 * p).min(1.0), false),
        (Correction::BenjaminiHochberg, p, true),
    ] {
        req.correction = corr;
        let a = analyze(&req, Context::default()).unwrap();
        for m in &a.metrics {
            let c = &m.comparisons[0];
            close(&format!("{corr:?} decision p"), c.decision_p_value, p);
            close(
                &format!("{corr:?} adjusted p"),
                c.p_value_adjusted,
                adjusted,
            );
            assert_eq!(c.significant, sig, "{corr:?}");
        }
    }
}

#[test]
fn tails_keep_their_digits() {
    // erfc and the incomplete beta, not 1 − cdf: far tails are not rounded to zero.
    // References: scipy 2·norm.sf(30), 2·t.sf(40, 5000), chi2.sf(900, 1).
    close(
        "z = 30",
        stats::norm_two_sided(30.0),
        9.813427854295816e-198,
    );
    close(
        "t = 40",
        stats::t_two_sided(40.0, 5000.0),
        8.41485047193577e-304,
    );
    close(
        "chi2 = 900",
        stats::chi2_sf(900.0, 1.0),
        9.813427854296455e-198,
    );
}

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

#[test]
fn formatting() {
    assert_eq!(pct(0.031), "+3.1%");
    assert_eq!(pct(-0.0042), "\u{2212}0.4%");
    assert_eq!(pct(0.00001), "0.0%");
    assert_eq!(count(48210.0), "48,210");
    assert_eq!(count(999.0), "999");
    assert_eq!(count(1_234_567.0), "1,234,567");
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
