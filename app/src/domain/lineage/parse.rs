//! Checking an OpenLineage event and reading it into its normalised form; a fault names its
//! field by JSON pointer.

use serde_json::{Map, Value};

use super::*;
use crate::domain::FieldError;

/// `pointer` (a JSON pointer such as `/run/runId`) breaks the rule `message`.
fn err(pointer: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError::new(pointer, message)
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, FieldError> {
    v.as_object()
        .ok_or_else(|| err(at, "must be a JSON object"))
}

fn opt_object<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<&'a Map<String, Value>>, FieldError> {
    match parent.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => object(v, &format!("{at}/{key}")).map(Some),
    }
}

fn name_field(parent: &Map<String, Value>, key: &str, at: &str) -> Result<String, FieldError> {
    let at = format!("{at}/{key}");
    match parent.get(key) {
        None | Some(Value::Null) => Err(err(at, "is required")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(err(at, "must not be empty")),
        Some(Value::String(s)) if s.chars().count() > MAX_NAME_LEN => {
            Err(err(at, format!("is longer than {MAX_NAME_LEN} characters")))
        }
        Some(Value::String(s)) => match crate::domain::names::check_name(s, MAX_NAME_LEN) {
            Ok(_) => Ok(s.clone()),
            Err(m) => Err(err(at, m)),
        },
        Some(_) => Err(err(at, "must be a string")),
    }
}

fn opt_string(
    parent: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<String>, FieldError> {
    match parent.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(format!("{at}/{key}"), "must be a string")),
    }
}

/// Parses an RFC 3339 time with an offset into the normalised UTC form.
pub fn normalise_time(s: &str) -> Option<String> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some(crate::domain::audit_chain::format_ts(t))
}

fn time_field(parent: &Map<String, Value>, key: &str, at: &str) -> Result<String, FieldError> {
    let at = format!("{at}/{key}");
    match parent.get(key) {
        None | Some(Value::Null) => Err(err(at, "is required")),
        Some(Value::String(s)) => normalise_time(s).ok_or_else(|| {
            err(
                at,
                format!("'{s}' is not an ISO 8601 date-time with a time zone offset"),
            )
        }),
        Some(_) => Err(err(at, "must be a string")),
    }
}

/// Whether `s` is a UUID in its canonical 8-4-4-4-12 hex form.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn uuid_field(parent: &Map<String, Value>, key: &str, at: &str) -> Result<String, FieldError> {
    let s = name_field(parent, key, at)?;
    if is_uuid(&s) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(err(format!("{at}/{key}"), format!("'{s}' is not a UUID")))
    }
}

fn facets(
    parent: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Map<String, Value>, FieldError> {
    Ok(opt_object(parent, key, at)?.cloned().unwrap_or_default())
}

fn schema_fields(
    list: &[Value],
    prefix: &str,
    at: &str,
    out: &mut Vec<SchemaField>,
) -> Result<(), FieldError> {
    for (i, f) in list.iter().enumerate() {
        let at = format!("{at}/{i}");
        let f = object(f, &at)?;
        let name = name_field(f, "name", &at)?;
        let full = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}.{name}")
        };
        out.push(SchemaField {
            name: full.clone(),
            r#type: opt_string(f, "type", &at)?,
            description: opt_string(f, "description", &at)?,
        });
        match f.get("fields") {
            None | Some(Value::Null) => {}
            Some(Value::Array(nested)) => {
                schema_fields(nested, &full, &format!("{at}/fields"), out)?
            }
            Some(_) => return Err(err(format!("{at}/fields"), "must be an array")),
        }
    }
    Ok(())
}

fn dataset(v: &Value, at: &str) -> Result<DatasetPart, FieldError> {
    let d = object(v, at)?;
    let namespace = name_field(d, "namespace", at)?;
    let name = name_field(d, "name", at)?;
    let mut all = facets(d, "facets", at)?;
    for extra in ["inputFacets", "outputFacets"] {
        for (k, v) in facets(d, extra, at)? {
            all.entry(k).or_insert(v);
        }
    }
    let fat = format!("{at}/facets");
    let fields = match all.get("schema") {
        None | Some(Value::Null) => None,
        Some(s) => {
            let s = object(s, &format!("{fat}/schema"))?;
            match s.get("fields") {
                None | Some(Value::Null) => Some(Vec::new()),
                Some(Value::Array(list)) => {
                    let mut out = Vec::new();
                    schema_fields(list, "", &format!("{fat}/schema/fields"), &mut out)?;
                    Some(out)
                }
                Some(_) => return Err(err(format!("{fat}/schema/fields"), "must be an array")),
            }
        }
    };
    let version = match all.get("version") {
        None | Some(Value::Null) => None,
        Some(v) => opt_string(
            object(v, &format!("{fat}/version"))?,
            "datasetVersion",
            &format!("{fat}/version"),
        )?,
    };
    let mut column_lineage = Vec::new();
    if let Some(cl) = all.get("columnLineage").filter(|v| !v.is_null()) {
        let cat = format!("{fat}/columnLineage");
        let cl = object(cl, &cat)?;
        if let Some(fields) = opt_object(cl, "fields", &cat)? {
            for (field, mapping) in fields {
                let mat = format!("{cat}/fields/{}", pointer_escape(field));
                let mapping = object(mapping, &mat)?;
                match mapping.get("inputFields") {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(inputs)) => {
                        for (i, input) in inputs.iter().enumerate() {
                            let iat = format!("{mat}/inputFields/{i}");
                            let input = object(input, &iat)?;
                            column_lineage.push(ColumnSource {
                                field: field.clone(),
                                namespace: name_field(input, "namespace", &iat)?,
                                name: name_field(input, "name", &iat)?,
                                input_field: name_field(input, "field", &iat)?,
                            });
                        }
                    }
                    Some(_) => return Err(err(format!("{mat}/inputFields"), "must be an array")),
                }
            }
        }
    }
    column_lineage.sort();
    column_lineage.dedup();
    Ok(DatasetPart {
        namespace,
        name,
        facets: all,
        fields,
        version,
        column_lineage,
    })
}

fn datasets(root: &Map<String, Value>, key: &str) -> Result<Vec<DatasetPart>, FieldError> {
    match root.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) if list.len() > MAX_DATASETS => Err(err(
            format!("/{key}"),
            format!("has more than {MAX_DATASETS} datasets"),
        )),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, d)| dataset(d, &format!("/{key}/{i}")))
            .collect(),
        Some(_) => Err(err(format!("/{key}"), "must be an array")),
    }
}

fn job(root: &Map<String, Value>) -> Result<(String, String, Map<String, Value>), FieldError> {
    let j = root
        .get("job")
        .filter(|v| !v.is_null())
        .ok_or_else(|| err("/job", "is required"))?;
    let j = object(j, "/job")?;
    Ok((
        name_field(j, "namespace", "/job")?,
        name_field(j, "name", "/job")?,
        facets(j, "facets", "/job")?,
    ))
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn run_part(root: &Map<String, Value>) -> Result<RunPart, FieldError> {
    let r = object(root.get("run").unwrap_or(&Value::Null), "/run")?;
    let run_id = uuid_field(r, "runId", "/run")?;
    let facets = facets(r, "facets", "/run")?;
    let fat = "/run/facets";
    let parent = match opt_object(&facets, "parent", fat)? {
        None => None,
        Some(p) => {
            let at = format!("{fat}/parent");
            let pr = object(p.get("run").unwrap_or(&Value::Null), &format!("{at}/run"))?;
            let pj = object(p.get("job").unwrap_or(&Value::Null), &format!("{at}/job"))?;
            Some((
                uuid_field(pr, "runId", &format!("{at}/run"))?,
                name_field(pj, "namespace", &format!("{at}/job"))?,
                name_field(pj, "name", &format!("{at}/job"))?,
            ))
        }
    };
    let error_message = match opt_object(&facets, "errorMessage", fat)? {
        None => None,
        Some(e) => Some(name_field(e, "message", &format!("{fat}/errorMessage"))?),
    };
    let nominal = match opt_object(&facets, "nominalTime", fat)? {
        None => None,
        Some(n) => {
            let at = format!("{fat}/nominalTime");
            let start = time_field(n, "nominalStartTime", &at)?;
            let end = match n.get("nominalEndTime") {
                None | Some(Value::Null) => None,
                Some(_) => Some(time_field(n, "nominalEndTime", &at)?),
            };
            Some((start, end))
        }
    };
    let mlflow_run_id = match opt_object(&facets, "mlflow", fat)? {
        None => None,
        Some(m) => {
            let id = name_field(m, "runId", &format!("{fat}/mlflow"))?;
            if id.len() != 32 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(err(
                    format!("{fat}/mlflow/runId"),
                    format!("'{id}' is not an MLflow run id (32 hex digits)"),
                ));
            }
            Some(id.to_ascii_lowercase())
        }
    };
    Ok(RunPart {
        run_id,
        facets,
        parent,
        error_message,
        nominal,
        mlflow_run_id,
    })
}

/// Validates an OpenLineage event. RunEvents have `run`; DatasetEvents have `dataset`;
/// JobEvents have `job` and neither of the others.
pub fn parse_event(v: &Value) -> Result<LineageEvent, FieldError> {
    let root = object(v, "")?;
    let event_time = time_field(root, "eventTime", "")?;
    let producer = name_field(root, "producer", "")?;
    if root.get("run").is_some_and(|r| !r.is_null()) {
        let event_type = match root.get("eventType") {
            None | Some(Value::Null) => RunEventType::Other,
            Some(Value::String(s)) => RunEventType::parse(s).ok_or_else(|| {
                err(
                    "/eventType",
                    format!("'{s}' is not one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER"),
                )
            })?,
            Some(_) => return Err(err("/eventType", "must be a string")),
        };
        let run = run_part(root)?;
        return Ok(LineageEvent {
            kind: EventKind::Run(event_type),
            event_time,
            producer,
            job: Some(job(root)?),
            inputs: datasets(root, "inputs")?,
            outputs: datasets(root, "outputs")?,
            run: Some(run),
            dataset: None,
        });
    }
    if root.get("dataset").is_some_and(|d| !d.is_null()) {
        return Ok(LineageEvent {
            kind: EventKind::Dataset,
            event_time,
            producer,
            run: None,
            job: None,
            inputs: Vec::new(),
            outputs: Vec::new(),
            dataset: Some(dataset(&root["dataset"], "/dataset")?),
        });
    }
    if root.get("job").is_some_and(|j| !j.is_null()) {
        return Ok(LineageEvent {
            kind: EventKind::Job,
            event_time,
            producer,
            run: None,
            job: Some(job(root)?),
            inputs: datasets(root, "inputs")?,
            outputs: datasets(root, "outputs")?,
            dataset: None,
        });
    }
    Err(err(
        "/run",
        "is required (a RunEvent needs run and job, a DatasetEvent dataset, a JobEvent job)",
    ))
}
