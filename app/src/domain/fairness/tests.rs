//! Fairness metrics against fairlearn fixtures (`app/fixtures/fairness/`), and the policy,
//! bootstrap and input checks.

use super::*;
use crate::domain::FieldError;
use serde_json::Value;
use std::collections::BTreeMap;

const CASES: [(&str, &str, &str); 3] = [
    (
        "plain",
        include_str!("../../../fixtures/fairness/plain.csv"),
        include_str!("../../../fixtures/fairness/plain.json"),
    ),
    (
        "weighted",
        include_str!("../../../fixtures/fairness/weighted.csv"),
        include_str!("../../../fixtures/fairness/weighted.json"),
    ),
    (
        "scored",
        include_str!("../../../fixtures/fairness/scored.csv"),
        include_str!("../../../fixtures/fairness/scored.json"),
    ),
];

fn settings() -> Settings {
    Settings {
        favorable_is_one: true,
        reference: BTreeMap::new(),
        policy: Policy::default(),
        resamples: 200,
        seed: 7,
    }
}

fn tally(csv: &str, m: &Mapping) -> Result<Tally, FieldError> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let cols = m.resolve(&header)?;
    let names = cols.attribute_names();
    let mut t = Tally {
        intersectional: m.intersectional.then(BTreeMap::new),
        ..Default::default()
    };
    for (i, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        cols.add_row(&mut t, &names, i as u64 + 2, &fields)?;
    }
    Ok(t)
}

fn close(what: &str, got: f64, want: f64) {
    let ok = if want == 0.0 {
        got.abs() < 1e-12
    } else {
        ((got - want) / want).abs() <= 1e-9
    };
    assert!(ok, "{what}: got {got}, want {want}");
}

#[test]
fn metrics_and_aggregates_equal_fairlearn() {
    for (name, csv, json) in CASES {
        let want: Value = serde_json::from_str(json).unwrap();
        let mapping = Mapping {
            label: "label".into(),
            prediction: want["threshold"].is_null().then(|| "pred".into()),
            score: Some("score".into()),
            threshold: want["threshold"].as_f64(),
            attributes: vec!["sex".into(), "region".into()],
            weight: want["weighted"].as_bool().unwrap().then(|| "weight".into()),
            intersectional: false,
        };
        let t = tally(csv, &mapping).unwrap();
        let r = report(&t, &settings()).unwrap();
        for (attr, a) in want["attributes"].as_object().unwrap() {
            let got = &r.by_attribute[attr];
            for (g, m) in a["groups"].as_object().unwrap() {
                let gm = &got.groups[g].metrics;
                assert_eq!(
                    gm.rows,
                    m["rows"].as_u64().unwrap(),
                    "{name} {attr}={g} rows"
                );
                // fairlearn's `count` is the number of rows, weights or not.
                assert_eq!(
                    gm.rows as f64,
                    m["count"].as_f64().unwrap(),
                    "{name} {attr}={g} count"
                );
                for k in [
                    "selection_rate",
                    "true_positive_rate",
                    "false_positive_rate",
                    "false_negative_rate",
                    "true_negative_rate",
                    "precision",
                    "accuracy",
                    "base_rate",
                ] {
                    close(
                        &format!("{name} {attr}={g} {k}"),
                        gm.get(k).unwrap(),
                        m[k].as_f64().unwrap(),
                    );
                }
                match m.get("roc_auc") {
                    Some(v) => close(
                        &format!("{name} {attr}={g} auc"),
                        gm.roc_auc.expect("auc with scores"),
                        v.as_f64().unwrap(),
                    ),
                    None if name == "scored" => {
                        assert!(gm.roc_auc.is_none(), "{g}: one class only, no AUC")
                    }
                    None => {}
                }
            }
            let agg = serde_json::to_value(&got.aggregates).unwrap();
            for (k, v) in a["aggregates"].as_object().unwrap() {
                close(
                    &format!("{name} {attr} {k}"),
                    agg[k].as_f64().unwrap(),
                    v.as_f64().unwrap(),
                );
            }
        }
    }
}

#[test]
fn four_fifths_rule_on_the_favourable_rate() {
    // Group b is selected at half group a's rate: fails; with prediction 1 adverse, the
    // favourable rates are 0.6 and 0.8, a ratio of 0.75: still fails, and says so.
    let mut t = Tally::default();
    let names = vec!["g".to_owned()];
    for i in 0..100 {
        t.add(&names, &["a"], i % 2 == 0, i < 40, 1.0, None);
        t.add(&names, &["b"], i % 2 == 0, i < 20, 1.0, None);
    }
    let mut s = settings();
    s.reference.insert("g".into(), "a".into());
    let r = report(&t, &s).unwrap();
    let d = &r.by_attribute["g"].groups["b"].disparities[0];
    assert_eq!(d.metric, "favorable_rate");
    close("ratio", d.ratio_vs_reference, 0.5);
    assert!(!d.pass);
    assert!(
        d.ratio_ci[0] < 0.5 && d.ratio_ci[1] > 0.5,
        "{:?}",
        d.ratio_ci
    );
    assert_eq!(r.verdict, "fail");
    assert!(
        r.sentence
            .starts_with("Fail: g = b: favorable_rate ratio 0.50 vs 'a'"),
        "{}",
        r.sentence
    );
    assert_eq!(
        r.by_attribute["g"].disparate_impact.groups["b"].verdict,
        "fail"
    );
    s.favorable_is_one = false;
    let r = report(&t, &s).unwrap();
    close(
        "adverse",
        r.by_attribute["g"].groups["b"].disparities[0].ratio_vs_reference,
        0.8 / 0.6,
    );
    assert!(
        !r.by_attribute["g"].groups["b"].pass,
        "0.8/0.6 = 1.33 is above 1.25"
    );
    assert_eq!(r.favorable, 0);
}

#[test]
fn small_groups_warn_and_bootstrap_is_seeded() {
    let mut t = Tally::default();
    let names = vec!["g".to_owned()];
    for i in 0..200 {
        t.add(&names, &["big"], i % 3 == 0, i % 2 == 0, 1.0, None);
    }
    for i in 0..10 {
        t.add(&names, &["small"], i % 3 == 0, i % 2 == 0, 1.0, None);
    }
    let a = report(&t, &settings()).unwrap();
    assert!(a.by_attribute["g"].groups["small"]
        .warning
        .as_deref()
        .unwrap()
        .contains("only 10 rows"));
    assert!(a.by_attribute["g"].groups["big"].warning.is_none());
    assert_eq!(
        a.by_attribute["g"].reference_group, "big",
        "largest group by default"
    );
    let b = report(&t, &settings()).unwrap();
    assert_eq!(a, b, "same seed, same intervals");
    let mut s = settings();
    s.reference.insert("g".into(), "missing".into());
    assert!(report(&t, &s)
        .unwrap_err()
        .contains("reference group 'missing'"));
}

#[test]
fn intersectional_groups_cross_two_attributes() {
    let m = Mapping {
        label: "label".into(),
        prediction: Some("pred".into()),
        attributes: vec!["sex".into(), "region".into()],
        intersectional: true,
        ..Default::default()
    };
    let t = tally(CASES[0].1, &m).unwrap();
    let r = report(&t, &settings()).unwrap();
    let names: Vec<&str> = r.tables().map(|(name, _)| name).collect();
    assert_eq!(names, ["region", "sex", "intersectional"]);
    let csv = report_csv(&r);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines.len(),
        1 + 3 + 2 + 6,
        "header + regions + sexes + crossed groups"
    );
    assert!(lines[0].starts_with("attribute,group,reference,rows,"));
    let crossed = lines
        .iter()
        .find(|l| l.starts_with("intersectional,female & north,"))
        .expect("a line per crossed group");
    let cells: Vec<&str> = crossed.split(',').collect();
    assert_eq!(cells.len(), 17);
    assert_eq!(cells[12], "favorable_rate", "the first rule's metric");
    assert!(cells[13].parse::<f64>().is_ok(), "the ratio is a number");
    assert!(cells[16] == "true" || cells[16] == "false");
    let x = r.intersectional.unwrap();
    assert_eq!(x.groups.len(), 6);
    assert!(x.groups.contains_key("female & north"));
    let total: u64 = x.groups.values().map(|g| g.metrics.rows).sum();
    assert_eq!(total, 2000);
}

#[test]
fn bad_input_names_column_and_line() {
    let base = Mapping {
        label: "label".into(),
        prediction: Some("pred".into()),
        attributes: vec!["sex".into()],
        ..Default::default()
    };
    let csv = "label,pred,sex\n1,0,f\n1,2,m\n";
    let e = tally(csv, &base).unwrap_err();
    assert_eq!((e.field.as_str(), e.row), ("pred", Some(3)));
    assert!(
        e.message
            .contains("line 3, column 'pred': '2' is not 0 or 1"),
        "{e:?}"
    );
    let e = tally("label,prediction,sex\n1,0,f\n", &base).unwrap_err();
    assert_eq!(e.field, "prediction");
    assert!(
        e.message
            .contains("column 'pred' (prediction) is not in the header"),
        "{e:?}"
    );
    let e = tally("label,pred,sex\n1,0\n", &base).unwrap_err();
    assert!(
        e.message.contains("line 2: 2 fields, the header has 3"),
        "{e:?}"
    );
    let mut m = base.clone();
    m.threshold = Some(0.5);
    assert_eq!(tally(csv, &m).unwrap_err().field, "threshold");
    let mut m = base.clone();
    m.prediction = None;
    m.score = Some("score".into());
    assert_eq!(
        tally("label,score,sex\n", &m).unwrap_err().field,
        "threshold"
    );
    m.threshold = Some(0.5);
    let e = tally("label,score,sex\n1,high,f\n", &m).unwrap_err();
    assert!(e.message.contains("'high' is not a number"), "{e:?}");
    let t = tally("label,pred,sex\n", &base).unwrap();
    assert!(report(&t, &settings())
        .unwrap_err()
        .contains("no data rows"));
}
