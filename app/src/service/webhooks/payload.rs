//! What one delivery sends: the body in the subscription's format and the headers MLflow's
//! webhooks carry (`X-MLflow-Delivery-Id`, `X-MLflow-Timestamp`, and `X-MLflow-Signature`:
//! `v1,` and the base64 HMAC-SHA256 of `{delivery id}.{timestamp}.{body}` under the secret).

use crate::domain::webhooks::{slack_text, EventKind, Format};
use crate::store::webhooks::Due;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

/// Names the delivery: the same value on every attempt, so a receiver can drop repeats.
pub const DELIVERY_ID_HEADER: &str = "X-MLflow-Delivery-Id";
/// The timestamp header (Unix seconds at sending).
pub const TIMESTAMP_HEADER: &str = "X-MLflow-Timestamp";
/// Carries `v1,` and the base64 HMAC-SHA256 of the delivery id, timestamp and body.
pub const SIGNATURE_HEADER: &str = "X-MLflow-Signature";

/// An HTTP request to a receiver: a JSON body and its headers.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    /// The JSON body.
    pub body: String,
    /// Headers besides `Content-Type: application/json`.
    pub headers: Vec<(&'static str, String)>,
}

/// MLflow's signature of a delivery: `v1,` and the base64 HMAC-SHA256 of
/// `{delivery_id}.{timestamp}.{body}` keyed by the secret.
pub fn signature(secret: &str, delivery_id: &str, timestamp: i64, body: &str) -> String {
    use base64::Engine;
    // An HMAC takes a key of any length.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(format!("{delivery_id}.{timestamp}.{body}").as_bytes());
    let tag = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    )
}

/// The request for delivery `d`, sent at `now_s` (Unix seconds). `public_url` makes the
/// event's link absolute.
pub fn outgoing(d: &Due, public_url: &str, now_s: i64) -> Outgoing {
    let kind = EventKind::parse(&d.event).ok();
    let data: Value = serde_json::from_str(&d.data).unwrap_or(Value::Null);
    let link = d
        .link
        .as_deref()
        .map(|path| format!("{}{path}", public_url.trim_end_matches('/')));
    let format = Format::parse(&d.format).unwrap_or(Format::Json);
    let body = match (format, kind) {
        (Format::Slack, Some(kind)) => json!({ "text": slack_text(kind, &data, link.as_deref()) }),
        _ => {
            let (entity, action) = d.event.split_once('.').unwrap_or((&d.event, ""));
            let mut body = json!({
                "entity": entity,
                "action": action,
                "timestamp": iso_ms(d.occurred_ms),
                "data": data,
            });
            if let Some(link) = link {
                body["link"] = Value::String(link);
            }
            body
        }
    }
    .to_string();
    let mut headers = vec![
        (DELIVERY_ID_HEADER, d.delivery_id.clone()),
        (TIMESTAMP_HEADER, now_s.to_string()),
    ];
    if !d.secret.is_empty() {
        let sig = signature(&d.secret, &d.delivery_id, now_s, &body);
        headers.push((SIGNATURE_HEADER, sig));
    }
    Outgoing { body, headers }
}

/// Milliseconds since the epoch as RFC 3339 in UTC, with microseconds as MLflow writes them.
fn iso_ms(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]+00:00"
    );
    at.format(&format).unwrap_or_default()
}

/// The example data a test delivery carries for `kind`, shaped as the real event's.
pub fn example(kind: EventKind) -> Value {
    let model = json!({ "name": "example_model" });
    let mut data = match (kind.entity, kind.action) {
        ("registered_model", _) => json!({ "tags": { "example_key": "example_value" },
                                           "description": "An example registered model" }),
        ("model_version", _) => json!({ "version": "1", "source": "models:/123",
            "run_id": "abcd1234abcd5678", "tags": { "example_key": "example_value" },
            "description": "An example model version" }),
        ("model_version_tag", "set") => json!({ "version": "1", "key": "example_key",
                                                "value": "example_value" }),
        ("model_version_tag", _) => json!({ "version": "1", "key": "example_key" }),
        ("model_version_alias", "created") => json!({ "alias": "example_alias", "version": "1" }),
        ("model_version_alias", "moved") => json!({ "alias": "production",
            "from_version": "1", "to_version": "2", "request_id": 1 }),
        ("model_version_alias", _) => json!({ "alias": "example_alias" }),
        ("promotion", _) => json!({ "request_id": 1, "version": "2", "alias": "production",
                                    "actor": "example_user" }),
        ("ab_test", _) => json!({ "test": "example_test", "decision": "ship",
                                  "actor": "example_user" }),
        ("fairness_report", _) => json!({ "version": "1", "report_id": 1,
                                          "reason": "an example failed check" }),
        _ => json!({ "reason": "an example failure" }),
    };
    if kind.entity != "ab_test" && kind.entity != "audit" {
        if let (Some(d), Some(m)) = (data.as_object_mut(), model.as_object()) {
            d.extend(m.clone());
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(format: &str) -> Due {
        Due {
            delivery_id: "d-1".into(),
            webhook_id: "wh-1".into(),
            attempts: 0,
            url: "https://hooks.example/in".into(),
            format: format.into(),
            secret: "s3cret-s3cret-s3cret".into(),
            event: "promotion.approved".into(),
            data: r#"{"name":"churn","version":"3","alias":"production","request_id":7}"#.into(),
            link: Some("/promotions/7".into()),
            occurred_ms: 1_767_225_600_123,
        }
    }

    #[test]
    fn a_signature_is_the_hmac_of_id_time_and_body() {
        // Python: base64.b64encode(hmac.new(b"key", b"id.1.{}", hashlib.sha256).digest())
        assert_eq!(
            signature("key", "id", 1, "{}"),
            "v1,5PVmP2AfJGwnp9flV+flrzfukNWA9zyUdqvI+IQalVs="
        );
    }

    #[test]
    fn json_deliveries_carry_mlflows_envelope_and_a_verifiable_signature() {
        let out = outgoing(&due("JSON"), "https://gate.example/", 1_767_225_601);
        let body: Value = serde_json::from_str(&out.body).unwrap();
        assert_eq!(body["entity"], "promotion");
        assert_eq!(body["action"], "approved");
        assert_eq!(body["timestamp"], "2026-01-01T00:00:00.123000+00:00");
        assert_eq!(body["data"]["request_id"], 7);
        assert_eq!(body["link"], "https://gate.example/promotions/7");
        let header = |name| {
            out.headers
                .iter()
                .find(|(h, _)| *h == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header(DELIVERY_ID_HEADER).as_deref(), Some("d-1"));
        assert_eq!(header(TIMESTAMP_HEADER).as_deref(), Some("1767225601"));
        let expected = signature("s3cret-s3cret-s3cret", "d-1", 1_767_225_601, &out.body);
        assert_eq!(header(SIGNATURE_HEADER), Some(expected));
    }

    #[test]
    fn slack_deliveries_are_a_text_message_with_the_link() {
        let out = outgoing(&due("SLACK"), "https://gate.example", 1);
        let body: Value = serde_json::from_str(&out.body).unwrap();
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("*Promotion approved* — name: churn, version: 3"),
            "{text}"
        );
        assert!(text.ends_with("<https://gate.example/promotions/7|Open in Gatehouse>"));
    }

    #[test]
    fn every_event_has_an_example_naming_its_subject() {
        for kind in EventKind::all() {
            let data = example(kind);
            assert!(
                data.is_object() && !data.as_object().unwrap().is_empty(),
                "{kind:?}"
            );
        }
        assert_eq!(example(EventKind::VERSION_CREATED)["name"], "example_model");
    }
}
