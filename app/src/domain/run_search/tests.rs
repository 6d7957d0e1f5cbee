//! The filter and order grammar against MLflow's own examples, and its refusals.

use super::*;

fn one(s: &str) -> Clause {
    let mut v = parse_filter(s).unwrap();
    assert_eq!(v.len(), 1, "{s}");
    v.remove(0)
}

#[test]
fn parses_each_entity_and_comparator() {
    assert_eq!(
        one("metrics.rmse < 0.5"),
        Clause {
            field: Field::Metric("rmse".into()),
            op: Op::Lt,
            value: Value::Number(0.5)
        }
    );
    assert_eq!(
        one("params.optimizer = 'adam'"),
        Clause {
            field: Field::Param("optimizer".into()),
            op: Op::Eq,
            value: Value::Text("adam".into())
        }
    );
    assert_eq!(
        one("tags.`mlflow.user` LIKE \"al%\""),
        Clause {
            field: Field::Tag("mlflow.user".into()),
            op: Op::Like,
            value: Value::Text("al%".into())
        }
    );
    assert_eq!(
        one("attributes.status IN ('FINISHED', 'FAILED')"),
        Clause {
            field: Field::Attribute(Attribute::Status),
            op: Op::In,
            value: Value::List(vec!["FINISHED".into(), "FAILED".into()])
        }
    );
    assert_eq!(one("attr.start_time >= 1700000000000").op, Op::Ge);
    assert_eq!(one("params.x NOT IN ('1')").op, Op::NotIn);
    assert_eq!(one("tags.t ILIKE '%X%'").op, Op::ILike);
    assert_eq!(
        one("metrics.val.loss <= -1e-3").field,
        Field::Metric("val.loss".into())
    );
}

#[test]
fn clauses_join_with_and_in_any_case() {
    let v = parse_filter("metrics.a > 1 and params.b = '2' AND tags.c != 'x'").unwrap();
    assert_eq!(v.len(), 3);
    assert!(parse_filter("  ").unwrap().is_empty());
}

#[test]
fn bad_filters_say_what_is_wrong() {
    let e = parse_filter("metrics.a > 1 OR metrics.b > 2").unwrap_err();
    assert!(e.contains("OR"), "{e}");
    let e = parse_filter("metrics.a > 'x'").unwrap_err();
    assert!(e.contains("needs a number"), "{e}");
    let e = parse_filter("params.a > '1'").unwrap_err();
    assert!(e.contains("not supported"), "{e}");
    let e = parse_filter("foo.a = '1'").unwrap_err();
    assert!(e.contains("invalid entity"), "{e}");
    let e = parse_filter("params.a = 'unterminated").unwrap_err();
    assert!(e.contains("unterminated"), "{e}");
    let e = parse_filter("attributes.colour = 'x'").unwrap_err();
    assert!(e.contains("invalid attribute"), "{e}");
    let e = parse_filter("metrics.a >").unwrap_err();
    assert!(e.contains("end of the filter"), "{e}");
}

#[test]
fn order_by_items() {
    assert_eq!(
        parse_order_by("metrics.rmse DESC").unwrap(),
        OrderBy {
            field: Field::Metric("rmse".into()),
            ascending: false
        }
    );
    assert_eq!(
        parse_order_by("start_time").unwrap(),
        OrderBy {
            field: Field::Attribute(Attribute::StartTime),
            ascending: true
        }
    );
    assert!(parse_order_by("metrics.rmse sideways").is_err());
}

#[test]
fn like_patterns_become_case_sensitive_globs() {
    assert_eq!(like_to_glob("a%b_c"), "a*b?c");
    assert_eq!(like_to_glob("x*y?[z"), "x[*]y[?][[]z");
}
