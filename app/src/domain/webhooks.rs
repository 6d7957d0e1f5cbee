//! Webhooks: the events a subscription can ask for and how each is named (MLflow's registry
//! events, in MLflow's own names, and Gatehouse's governance events in the same form), which
//! receiver addresses are allowed (`address`), when a failed delivery is tried again (`retry`),
//! and the text of a Slack message.

pub mod address;
pub mod retry;

use super::Invalid;

/// One kind of event: an entity and what happened to it, written `entity.action` (MLflow's
/// `model_version.created`), and on MLflow's wire as `{"entity": "MODEL_VERSION", "action":
/// "CREATED"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKind {
    /// What changed, lower case (`model_version`, `promotion`).
    pub entity: &'static str,
    /// What happened to it, lower case (`created`, `approved`).
    pub action: &'static str,
}

/// Every event, with whether MLflow defines it and a short title for messages.
const EVENTS: [(EventKind, bool, &str); 16] = [
    (ev("registered_model", "created"), true, "Model registered"),
    (
        ev("model_version", "created"),
        true,
        "Model version registered",
    ),
    (
        ev("model_version_tag", "set"),
        true,
        "Model version tag set",
    ),
    (
        ev("model_version_tag", "deleted"),
        true,
        "Model version tag removed",
    ),
    (ev("model_version_alias", "created"), true, "Alias set"),
    (ev("model_version_alias", "deleted"), true, "Alias removed"),
    (ev("model_version_alias", "moved"), false, "Alias moved"),
    (ev("promotion", "requested"), false, "Promotion requested"),
    (ev("promotion", "approved"), false, "Promotion approved"),
    (ev("promotion", "rejected"), false, "Promotion rejected"),
    (ev("promotion", "waived"), false, "Promotion waived"),
    (ev("promotion", "withdrawn"), false, "Promotion withdrawn"),
    (ev("promotion", "expired"), false, "Promotion expired"),
    (ev("ab_test", "decided"), false, "A/B test decided"),
    (
        ev("fairness_report", "failed"),
        false,
        "Fairness report failed",
    ),
    (
        ev("audit", "verification_failed"),
        false,
        "Audit verification failed",
    ),
];

const fn ev(entity: &'static str, action: &'static str) -> EventKind {
    EventKind { entity, action }
}

impl EventKind {
    /// A model was registered (MLflow's `registered_model.created`).
    pub const MODEL_CREATED: EventKind = ev("registered_model", "created");
    /// A model version was registered.
    pub const VERSION_CREATED: EventKind = ev("model_version", "created");
    /// A model version's tag was set.
    pub const VERSION_TAG_SET: EventKind = ev("model_version_tag", "set");
    /// A model version's tag was removed.
    pub const VERSION_TAG_DELETED: EventKind = ev("model_version_tag", "deleted");
    /// An alias was pointed at a version (MLflow sends this for every set, a move included).
    pub const ALIAS_CREATED: EventKind = ev("model_version_alias", "created");
    /// An alias was removed.
    pub const ALIAS_DELETED: EventKind = ev("model_version_alias", "deleted");
    /// An alias moved from one version to another (Gatehouse's, with both versions and why).
    pub const ALIAS_MOVED: EventKind = ev("model_version_alias", "moved");
    /// A promotion was requested.
    pub const PROMOTION_REQUESTED: EventKind = ev("promotion", "requested");
    /// A promotion was approved (and its alias moved).
    pub const PROMOTION_APPROVED: EventKind = ev("promotion", "approved");
    /// A promotion was rejected.
    pub const PROMOTION_REJECTED: EventKind = ev("promotion", "rejected");
    /// A promotion went ahead on a waiver.
    pub const PROMOTION_WAIVED: EventKind = ev("promotion", "waived");
    /// Its requester withdrew a promotion request.
    pub const PROMOTION_WITHDRAWN: EventKind = ev("promotion", "withdrawn");
    /// A promotion request expired unreviewed.
    pub const PROMOTION_EXPIRED: EventKind = ev("promotion", "expired");
    /// An A/B test's decision was recorded.
    pub const AB_TEST_DECIDED: EventKind = ev("ab_test", "decided");
    /// A fairness report failed its policy.
    pub const FAIRNESS_FAILED: EventKind = ev("fairness_report", "failed");
    /// Verifying the audit trail found it broken.
    pub const AUDIT_VERIFICATION_FAILED: EventKind = ev("audit", "verification_failed");

    /// Every event, MLflow's first.
    pub fn all() -> impl Iterator<Item = EventKind> {
        EVENTS.iter().map(|(kind, _, _)| *kind)
    }

    /// `entity.action`, as stored and as MLflow's Python client writes it.
    pub fn name(self) -> String {
        format!("{}.{}", self.entity, self.action)
    }

    /// The event named `entity.action`.
    pub fn parse(name: &str) -> Result<EventKind, Invalid> {
        let (entity, action) = name
            .split_once('.')
            .ok_or_else(|| Invalid(format!("`{name}` is not `entity.action`")))?;
        EventKind::from_wire(entity, action)
    }

    /// The event from MLflow's wire form (`MODEL_VERSION`, `CREATED`; any case).
    pub fn from_wire(entity: &str, action: &str) -> Result<EventKind, Invalid> {
        let (entity, action) = (entity.to_ascii_lowercase(), action.to_ascii_lowercase());
        EventKind::all()
            .find(|k| k.entity == entity && k.action == action)
            .ok_or_else(|| {
                let known: Vec<String> = EventKind::all().map(EventKind::name).collect();
                Invalid(format!(
                    "`{entity}.{action}` is not an event; the events are {}",
                    known.join(", ")
                ))
            })
    }

    /// Whether MLflow defines the event (its clients can subscribe to it).
    pub fn is_mlflow(self) -> bool {
        EVENTS.iter().any(|(k, mlflow, _)| *k == self && *mlflow)
    }

    /// A short title for messages ("Promotion approved").
    pub fn title(self) -> &'static str {
        EVENTS
            .iter()
            .find(|(k, _, _)| *k == self)
            .map_or("Event", |(_, _, title)| title)
    }
}

/// Whether the subscription's receiver gets MLflow's signed JSON or a Slack message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `{entity, action, timestamp, data}`, signed with `X-MLflow-Signature` as MLflow signs.
    Json,
    /// A Slack incoming-webhook message: `{"text": …}` with a link to the page.
    Slack,
}

impl Format {
    /// The stored and wire name (`JSON`, `SLACK`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Slack => "SLACK",
        }
    }

    /// The format named `s` (any case).
    pub fn parse(s: &str) -> Result<Format, Invalid> {
        match s.to_ascii_uppercase().as_str() {
            "JSON" => Ok(Format::Json),
            "SLACK" => Ok(Format::Slack),
            _ => Err(Invalid(format!("`{s}` is not a format: JSON or SLACK"))),
        }
    }
}

/// The text of a Slack message for an event: its title, what it is about (the `data` fields a
/// reader needs, in a fixed order) and a link to the page, in Slack's `<url|label>` markup.
pub fn slack_text(kind: EventKind, data: &serde_json::Value, link: Option<&str>) -> String {
    const FIELDS: [&str; 12] = [
        "name",
        "version",
        "alias",
        "from_version",
        "to_version",
        "key",
        "value",
        "request_id",
        "test",
        "decision",
        "actor",
        "reason",
    ];
    let mut parts = Vec::new();
    for field in FIELDS {
        let text = match data.get(field) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        parts.push(format!(
            "{}: {}",
            field.replace('_', " "),
            escape_slack(&text)
        ));
    }
    let mut text = format!("*{}*", kind.title());
    if !parts.is_empty() {
        text.push_str(" — ");
        text.push_str(&parts.join(", "));
    }
    if let Some(url) = link {
        text.push_str(&format!("\n<{url}|Open in Gatehouse>"));
    }
    text
}

/// Slack's three control characters, escaped as its message format asks.
fn escape_slack(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_in_either_spelling() {
        assert_eq!(
            EventKind::from_wire("MODEL_VERSION", "CREATED"),
            Ok(EventKind::VERSION_CREATED)
        );
        assert_eq!(
            EventKind::parse("promotion.approved"),
            Ok(EventKind::PROMOTION_APPROVED)
        );
        assert_eq!(
            EventKind::ALIAS_DELETED.name(),
            "model_version_alias.deleted"
        );
        let e = EventKind::parse("model_version.deleted").unwrap_err();
        assert!(e.contains("not an event") && e.contains("registered_model.created"));
        assert!(EventKind::parse("promotion").is_err());
        assert!(EventKind::MODEL_CREATED.is_mlflow());
        assert!(!EventKind::PROMOTION_APPROVED.is_mlflow());
        assert_eq!(EventKind::all().count(), 16);
    }

    #[test]
    fn formats_parse() {
        assert_eq!(Format::parse("slack"), Ok(Format::Slack));
        assert_eq!(Format::parse("JSON").map(Format::as_str), Ok("JSON"));
        assert!(Format::parse("xml").is_err());
    }

    #[test]
    fn slack_text_names_the_change_and_links_the_page() {
        let data = serde_json::json!({
            "name": "churn <model>", "version": "3", "alias": "production",
            "request_id": 12, "ignored": "x"
        });
        let text = slack_text(
            EventKind::PROMOTION_APPROVED,
            &data,
            Some("https://gate.example/promotions/12"),
        );
        assert_eq!(
            text,
            "*Promotion approved* — name: churn &lt;model&gt;, version: 3, alias: production, \
             request id: 12\n<https://gate.example/promotions/12|Open in Gatehouse>"
        );
        assert_eq!(
            slack_text(
                EventKind::AUDIT_VERIFICATION_FAILED,
                &serde_json::json!({}),
                None
            ),
            "*Audit verification failed*"
        );
    }
}
