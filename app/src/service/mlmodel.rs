//! What an `MLmodel` file says: flavours and loaders, the Python version, the signature.

use crate::dto::artifacts::{ModelVersionPage, SignatureColumn};
use serde_yaml::Value;

/// Fills the page's flavours, Python version and signature from an `MLmodel` text; a text
/// that is not YAML leaves them empty.
pub fn describe(text: &str, page: &mut ModelVersionPage) {
    let Ok(doc) = serde_yaml::from_str::<Value>(text) else {
        return;
    };
    if let Some(flavors) = doc.get("flavors").and_then(Value::as_mapping) {
        for (k, v) in flavors {
            let name = k.as_str().unwrap_or_default().to_string();
            let s = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
            let detail = match name.as_str() {
                "python_function" => s("loader_module").unwrap_or_default(),
                _ => {
                    let version = v
                        .as_mapping()
                        .and_then(|m| {
                            m.iter().find_map(|(k, v)| {
                                k.as_str()
                                    .filter(|k| k.ends_with("_version"))
                                    .and_then(|_| v.as_str())
                            })
                        })
                        .map(str::to_string);
                    [version, s("serialization_format")]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            if name == "python_function" {
                page.python_version = s("python_version");
            }
            page.flavors.push((name, detail));
        }
    }
    if let Some(sig) = doc.get("signature") {
        page.inputs = columns(sig.get("inputs"));
        page.outputs = columns(sig.get("outputs"));
    }
}

/// A signature side: a JSON list (stored as a string) of columns or tensors.
fn columns(v: Option<&Value>) -> Vec<SignatureColumn> {
    let Some(text) = v.and_then(Value::as_str) else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(text)
    else {
        return Vec::new();
    };
    items
        .iter()
        .map(|c| {
            let kind = match c.get("type").and_then(|t| t.as_str()) {
                Some("tensor") => {
                    let spec = c.get("tensor-spec");
                    format!(
                        "tensor {} {}",
                        spec.and_then(|s| s.get("dtype"))
                            .and_then(|d| d.as_str())
                            .unwrap_or("?"),
                        spec.and_then(|s| s.get("shape"))
                            .map(|s| s.to_string())
                            .unwrap_or_default()
                    )
                }
                Some(t) => t.to_string(),
                None => "?".into(),
            };
            SignatureColumn {
                name: c
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_string(),
                kind,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SKLEARN: &str = r#"artifact_path: mlflow-artifacts:/1/models/m-1/artifacts
flavors:
  python_function:
    env:
      conda: conda.yaml
    loader_module: mlflow.sklearn
    model_path: model.skops
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: 1.9.1
signature:
  inputs: '[{"type": "double", "name": "debt_to_income", "required": true}, {"type":
    "long", "name": "delinquencies", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
"#;

    #[test]
    fn flavours_and_signature_are_read() {
        let mut page = ModelVersionPage {
            version: crate::dto::registry::ModelVersion {
                name: "m".into(),
                version: 1,
                source: String::new(),
                run_id: None,
                model_id: None,
                run_link: String::new(),
                description: String::new(),
                user_id: String::new(),
                creation_time: 0,
                last_updated_time: 0,
                tags: vec![],
                aliases: vec![],
            },
            stored: None,
            prefix: None,
            digest: None,
            sealed: false,
            manifest: vec![],
            verified: None,
            flavors: vec![],
            python_version: None,
            inputs: vec![],
            outputs: vec![],
            input_example: None,
            requirements: vec![],
            aliases: vec![],
        };
        describe(SKLEARN, &mut page);
        assert_eq!(
            page.flavors,
            vec![
                ("python_function".to_string(), "mlflow.sklearn".to_string()),
                ("sklearn".to_string(), "1.9.1, skops".to_string())
            ]
        );
        assert_eq!(page.python_version.as_deref(), Some("3.11.7"));
        assert_eq!(
            page.inputs.len(),
            2,
            "a quoted scalar folded over two lines"
        );
        assert_eq!(page.inputs[1].name, "delinquencies");
        assert_eq!(page.inputs[1].kind, "long");
        assert_eq!(page.outputs[0].kind, "tensor int64 [-1]");
        let before = page.clone();
        describe("{ not: [yaml", &mut page);
        assert_eq!(page, before);
    }
}
