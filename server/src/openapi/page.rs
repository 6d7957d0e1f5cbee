//! The reference page at `/api/docs`: every operation by group, with who may call it.

use super::{openapi_path, tag, tags};
use crate::api::{Access, Body, Route};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The reference page: every operation by group, with who may call it.
pub fn reference_page(routes: &[Route]) -> String {
    let tags = tags(routes);
    let mut out = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>API reference · Gatehouse</title><link rel=\"stylesheet\" href=\"STYLESHEET\"></head>\
         <body><main class=\"api-reference\"><h1>API reference</h1>\
         <p>Every REST operation Gatehouse serves, generated from the code that serves it. \
         The machine-readable description is <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3.1). \
         Call with a browser session or an <code>Authorization: Bearer</code> API token; \
         errors are JSON with <code>error</code>, <code>message</code> and, where it applies, <code>field</code> \
         (the MLflow-compatible API answers in MLflow's own <code>error_code</code> shape).</p>",
    );
    out = out.replace("STYLESHEET", &crate::startup::stylesheet_href());
    out.push_str("<nav aria-label=\"Groups\"><ul>");
    for (i, t) in tags.iter().enumerate() {
        out.push_str(&format!("<li><a href=\"#g{i}\">{}</a></li>", escape(t)));
    }
    out.push_str("</ul></nav>");
    for (i, t) in tags.iter().enumerate() {
        out.push_str(&format!(
            "<section aria-labelledby=\"g{i}\"><h2 id=\"g{i}\">{}</h2><div class=\"table-wrap\"><table>\
             <thead><tr><th scope=\"col\">Method</th><th scope=\"col\">Path</th><th scope=\"col\">What it does</th>\
             <th scope=\"col\">Who may call</th><th scope=\"col\">Body</th></tr></thead><tbody>",
            escape(t)
        ));
        for r in routes.iter().filter(|r| tag(&r.path) == *t) {
            let who = match r.doc.access {
                Access::Public => "anyone".to_owned(),
                Access::Link => "anyone with the link".to_owned(),
                Access::Never => "nobody (refused by design)".to_owned(),
                Access::Needs(_) | Access::AnyOf(_) => r
                    .doc
                    .access
                    .roles()
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let body = match r.doc.body {
                Body::None => "",
                Body::Json | Body::Spec(_) => "JSON",
                Body::Multipart => "multipart form",
                Body::Text(t) => t,
            };
            let mut query = String::new();
            for (name, description) in r.doc.query {
                query.push_str(&format!(
                    "<br><small><code>?{}</code> {}</small>",
                    escape(name),
                    escape(description)
                ));
            }
            out.push_str(&format!(
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}{query}</td><td>{}</td><td>{}</td></tr>",
                r.method,
                escape(&openapi_path(&r.path)),
                escape(r.doc.summary),
                escape(&who),
                escape(body)
            ));
        }
        out.push_str("</tbody></table></div></section>");
    }
    out.push_str("</main></body></html>");
    out
}
