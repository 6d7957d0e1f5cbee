//! One model version: what it is (flavours, signature, input example, requirements), the exact
//! files approved (digest and manifest), which aliases serve it, and the code that loads it.

use crate::components::artifact_browser::fmt_bytes;
use crate::components::error_view::ErrorView;
use crate::components::when::TimeMs;
use crate::domain::url::{decode, link_rel, model_href, model_lineage_href};
use crate::dto::artifacts::{ModelVersionPage as Page, SignatureColumn};
use crate::server_fns::artifacts::{download_href, get_model_version};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

/// `/models/:name/versions/:version`, read from the raw path (names may hold `%`).
#[component]
pub fn ModelVersionPage() -> impl IntoView {
    let location = use_location();
    let target = Memo::new(move |_| {
        let path = location.pathname.read();
        let rest = path.strip_prefix("/models/").unwrap_or_default();
        let mut parts = rest.split('/');
        let name = decode(parts.next().unwrap_or_default());
        let version = parts.nth(1).unwrap_or_default().to_string();
        (name, version)
    });
    let page = Resource::new(move || target.get(), |(n, v)| get_model_version(n, v));
    view! {
        <Title text="Model version"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(p) => view! { <VersionBody p=p/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn columns(cols: Vec<SignatureColumn>, what: &'static str) -> AnyView {
    if cols.is_empty() {
        return view! { <p class="muted">{format!("No {what} recorded.")}</p> }.into_any();
    }
    view! {
        <table class="kv"><tbody>{cols.into_iter().map(|c| view! {
            <tr><th scope="row">{if c.name.is_empty() { "(unnamed)".to_string() } else { c.name }}</th><td><code>{c.kind}</code></td></tr>
        }).collect_view()}</tbody></table>
    }
    .into_any()
}

#[component]
fn VersionBody(p: Page) -> impl IntoView {
    let v = p.version.clone();
    let name = v.name.clone();
    let model_link = model_href(&name);
    let alias = p
        .aliases
        .first()
        .map(|(a, _)| a.clone())
        .unwrap_or_else(|| "production".into());
    let load = format!(
        "import mlflow\nmodel = mlflow.pyfunc.load_model(\"models:/{name}@{alias}\")\n# or this exact version:\nmodel = mlflow.pyfunc.load_model(\"models:/{name}/{}\")",
        v.version
    );
    let prefix = p.prefix.clone().unwrap_or_default();
    let verified = p.verified.clone();
    view! {
        <p class="breadcrumb"><a href="/models">"Models & Approvals"</a>" / "<a rel=link_rel(&model_link) href=model_link.clone()>{name.clone()}</a></p>
        <h1>{format!("{name} version {}", v.version)}</h1>
        {(!v.description.is_empty()).then(|| view! { <p class="lede">{v.description.clone()}</p> })}
        <dl class="facts">
            <div><dt>"Registered by"</dt><dd>{v.user_id.clone()}</dd></div>
            <div><dt>"When"</dt><dd><TimeMs ms=Some(v.creation_time)/></dd></div>
            <div><dt>"Training run"</dt><dd>{match &v.run_id {
                Some(r) => view! { <a href=format!("/runs/run/{r}")><code>{r.chars().take(8).collect::<String>()}</code></a> }.into_any(),
                None => view! { <span class="muted">"none"</span> }.into_any(),
            }}</dd></div>
            <div><dt>"Source"</dt><dd><code class="wrap">{v.source.clone()}</code></dd></div>
            <div><dt>"Lineage"</dt><dd><a href=model_lineage_href(&name, v.version)>"Graph"</a></dd></div>
        </dl>
        <section aria-labelledby="serving-title">
            <h2 id="serving-title">"Serving"</h2>
            {if p.aliases.is_empty() {
                view! { <p class="muted">"No alias serves this version."</p> }.into_any()
            } else {
                view! { <ul class="aliases">{p.aliases.iter().map(|(a, since)| view! {
                    <li><strong>{a.clone()}</strong>" since "<TimeMs ms=Some(*since)/></li>
                }).collect_view()}</ul> }.into_any()
            }}
            <h3>"Load it"</h3>
            <pre class="code" tabindex="0"><code>{load}</code></pre>
        </section>
        <section aria-labelledby="bytes-title">
            <h2 id="bytes-title">"Files and digest"</h2>
            {match (&p.stored, &p.digest) {
                (Some(stored), Some(digest)) => view! {
                    <dl class="facts">
                        <div><dt>"Stored as"</dt><dd>{stored.clone()}</dd></div>
                        <div><dt>"Digest"</dt><dd><code class="digest">{digest.clone()}</code></dd></div>
                        <div><dt>"Sealed"</dt><dd>{if p.sealed { "yes: the files can no longer change" } else { "no: the model is not finalized" }}</dd></div>
                        <div><dt>"Last re-hash"</dt><dd>{match verified {
                            Some((at, true, _)) => view! { <span class="badge state-complete">"matches"</span>" "<TimeMs ms=Some(at)/> }.into_any(),
                            Some((at, false, d)) => view! { <span class="badge state-fail">"differs"</span>" "<TimeMs ms=Some(at)/>": "{d} }.into_any(),
                            None => view! { <span class="muted">"not yet (at the next promotion request or review, or server verify-artifacts)"</span> }.into_any(),
                        }}</dd></div>
                    </dl>
                    <div class="table-wrap" tabindex="0"><table class="manifest">
                        <caption class="muted small">"The manifest the digest is computed over (see the README: path, size, SHA-256)"</caption>
                        <thead><tr><th scope="col">"File"</th><th scope="col" class="num">"Size"</th><th scope="col">"SHA-256"</th></tr></thead>
                        <tbody>{p.manifest.iter().map(|f| view! {
                            <tr>
                                <td><a rel="external" download="" href=download_href(&format!("{prefix}/{}", f.path))>{f.path.clone()}</a></td>
                                <td class="num nowrap">{fmt_bytes(f.size)}</td>
                                <td><code class="digest">{f.sha256.clone()}</code></td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any(),
                _ => view! { <p class="muted">"This version's files are not stored in Gatehouse ("<code>{v.source.clone()}</code>"), so no approval can be bound to its bytes. Log the model with the MLflow client to store it here."</p> }.into_any(),
            }}
        </section>
        <div class="two-col">
            <section aria-labelledby="flavors-title">
                <h2 id="flavors-title">"Flavours"</h2>
                {if p.flavors.is_empty() {
                    view! { <p class="muted">"No MLmodel file."</p> }.into_any()
                } else {
                    view! { <table class="kv"><tbody>{p.flavors.iter().map(|(f, d)| view! {
                        <tr><th scope="row">{f.clone()}</th><td><code>{d.clone()}</code></td></tr>
                    }).collect_view()}</tbody></table> }.into_any()
                }}
                {p.python_version.clone().map(|py| view! { <p class="small muted">"Saved with Python "{py}</p> })}
                <h3>"Python requirements"</h3>
                {if p.requirements.is_empty() {
                    view! { <p class="muted">"None recorded."</p> }.into_any()
                } else {
                    view! { <ul class="requirements">{p.requirements.iter().map(|r| view! { <li><code>{r.clone()}</code></li> }).collect_view()}</ul> }.into_any()
                }}
            </section>
            <section aria-labelledby="signature-title">
                <h2 id="signature-title">"Signature"</h2>
                <h3>"Inputs"</h3>
                {columns(p.inputs.clone(), "inputs")}
                <h3>"Outputs"</h3>
                {columns(p.outputs.clone(), "outputs")}
                <h3>"Input example"</h3>
                {match p.input_example.clone() {
                    Some(x) => view! { <pre class="code" tabindex="0"><code>{x}</code></pre> }.into_any(),
                    None => view! { <p class="muted">"None stored."</p> }.into_any(),
                }}
            </section>
        </div>
    }
}
