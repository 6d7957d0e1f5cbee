//! Rewrites that keep the generated schemas readable by OpenAPI tooling (client generators).

use serde_json::{json, Value};

/// A string constant of a `oneOf` and its description.
type Constant = (String, Option<String>);

/// The entries of `schema`'s `oneOf` when every one is a documented string constant and
/// nothing else.
fn documented_constants(schema: &serde_json::Map<String, Value>) -> Option<Vec<Constant>> {
    let items = schema.get("oneOf")?.as_array()?;
    let constants = items
        .iter()
        .map(|item| {
            let o = item.as_object()?;
            let known = ["type", "const", "description"];
            if !o.keys().all(|k| known.contains(&k.as_str())) {
                return None;
            }
            let c = o.get("const")?.as_str()?.to_owned();
            let d = o.get("description").and_then(Value::as_str);
            Some((c, d.map(str::to_owned)))
        })
        .collect::<Option<Vec<_>>>()?;
    (!constants.is_empty()).then_some(constants)
}

/// Writes a `oneOf` of documented string constants (how a Rust enum of unit variants with doc
/// comments is described) as one string `enum`, the variants' docs joined into its
/// description: client generators turn an `enum` into a type and stumble on the `oneOf`.
pub(super) fn string_enums(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(constants) = documented_constants(map) {
                map.remove("oneOf");
                let notes = constants
                    .iter()
                    .filter_map(|(c, d)| d.as_ref().map(|d| format!("`{c}`: {d}")));
                let description: Vec<String> = map
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .into_iter()
                    .chain(notes)
                    .collect();
                if !description.is_empty() {
                    map.insert("description".into(), json!(description.join("\n\n")));
                }
                map.insert("type".into(), json!("string"));
                let values: Vec<String> = constants.into_iter().map(|(c, _)| c).collect();
                map.insert("enum".into(), json!(values));
            }
            map.values_mut().for_each(string_enums);
        }
        Value::Array(list) => list.iter_mut().for_each(string_enums),
        _ => {}
    }
}

/// Writes JSON Schema's `true` (anything at all, as serde_json's `Value` is described) as the
/// equivalent `{}`: OpenAPI tooling such as client generators reads only object schemas.
pub(super) fn open_schemas(v: &mut Value) {
    const SCHEMA: [&str; 10] = [
        "schema",
        "items",
        "additionalProperties",
        "not",
        "contains",
        "propertyNames",
        "unevaluatedProperties",
        "if",
        "then",
        "else",
    ];
    const SCHEMA_MAPS: [&str; 4] = ["properties", "patternProperties", "$defs", "schemas"];
    const SCHEMA_LISTS: [&str; 4] = ["oneOf", "anyOf", "allOf", "prefixItems"];
    match v {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let key = key.as_str();
                if SCHEMA.contains(&key) && *child == Value::Bool(true) {
                    *child = json!({});
                } else if SCHEMA_MAPS.contains(&key) {
                    if let Value::Object(m) = child {
                        m.values_mut()
                            .filter(|s| **s == Value::Bool(true))
                            .for_each(|s| *s = json!({}));
                    }
                } else if SCHEMA_LISTS.contains(&key) {
                    if let Value::Array(list) = child {
                        list.iter_mut()
                            .filter(|s| **s == Value::Bool(true))
                            .for_each(|s| *s = json!({}));
                    }
                }
                open_schemas(child);
            }
        }
        Value::Array(list) => list.iter_mut().for_each(open_schemas),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_string_constants_become_one_enum() {
        let mut v = json!({ "Role": { "description": "A role.", "oneOf": [
            { "type": "string", "const": "viewer", "description": "Reads." },
            { "type": "string", "const": "admin" }
        ] }, "Error": { "oneOf": [
            { "type": "object", "properties": { "error": { "type": "string", "const": "x" } } }
        ] } });
        string_enums(&mut v);
        assert_eq!(v["Role"]["enum"], json!(["viewer", "admin"]));
        assert_eq!(v["Role"]["type"], "string");
        assert_eq!(v["Role"]["description"], "A role.\n\n`viewer`: Reads.");
        assert!(v["Role"].get("oneOf").is_none());
        assert!(
            v["Error"]["oneOf"].is_array(),
            "tagged objects stay a oneOf"
        );
    }
}
