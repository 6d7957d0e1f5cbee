//! Every figure against the scipy, statsmodels and gbstats reference values.

use super::*;

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

const GBSTATS: &str = include_str!("../../../../fixtures/ab/sequential_gbstats.json");

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
