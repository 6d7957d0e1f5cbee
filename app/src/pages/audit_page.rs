//! The audit trail for auditors and admins: filters, keyset pages and chain verification.
//! Everything is driven by the query string, so it works the same without JavaScript.

use crate::components::audit_table::AuditTable;
use crate::components::error_view::ErrorView;
use crate::components::url_state::use_query;
use crate::components::when::Time;
use crate::domain::audit_query::AuditFilterInput;
use crate::domain::url::query_string;
use crate::dto::VerifyReport;
use crate::server_fns::audit::get_audit_page;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;

/// Actions recorded today, offered as suggestions in the filter.
const KNOWN_ACTIONS: [&str; 9] = [
    "auth.",
    "auth.sign_in",
    "auth.sign_in_failures",
    "auth.sign_out",
    "user.",
    "user.create",
    "user.set_roles",
    "api_token.create",
    "api_token.revoke",
];

/// `/audit`: newest first, filterable, verifiable.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query();
    let input = move || {
        let q = query.read();
        let get = |k: &str| q.get(k);
        (
            AuditFilterInput {
                actor: get("actor"),
                action: get("action"),
                object_type: get("object_type"),
                object_id: get("object_id"),
                from: get("from"),
                to: get("to"),
                before: get("before"),
                q: get("q"),
            },
            get("verify").is_some_and(|v| v == "1"),
        )
    };
    let page = Resource::new(input, |(f, verify)| get_audit_page(f, verify));
    let field = move |k: &'static str| move || query.read().get(k).unwrap_or_default();
    view! {
        <Title text="Audit trail"/>
        <h1>"Audit trail"</h1>
        <Form method="GET" action="/audit" attr:class="filters" attr:aria-label="Filter the audit trail">
            <div class="field"><label for="f-q">"Text"</label><input id="f-q" name="q" type="search" value=field("q") placeholder="anything in the entry"/></div>
            <div class="field"><label for="f-actor">"Actor"</label><input id="f-actor" name="actor" value=field("actor") placeholder="e.g. admin"/></div>
            <div class="field">
                <label for="f-action">"Action"</label>
                <input id="f-action" name="action" list="known-actions" value=field("action") placeholder="e.g. user. (prefix)"/>
                <datalist id="known-actions">{KNOWN_ACTIONS.map(|a| view! { <option value=a></option> }).collect_view()}</datalist>
            </div>
            <div class="field"><label for="f-otype">"Object type"</label><input id="f-otype" name="object_type" value=field("object_type") placeholder="e.g. user"/></div>
            <div class="field"><label for="f-oid">"Object id"</label><input id="f-oid" name="object_id" value=field("object_id")/></div>
            <div class="field"><label for="f-from">"From (UTC)"</label><input id="f-from" name="from" value=field("from") placeholder="2026-11-27 or 2026-11-27T08:00"/></div>
            <div class="field"><label for="f-to">"To (UTC)"</label><input id="f-to" name="to" value=field("to") placeholder="exclusive"/></div>
            <div class="actions">
                <button type="submit" class="button primary">"Apply filters"</button>
                <a class="button" href="/audit">"Clear"</a>
            </div>
        </Form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(p) => {
                        let qs = query_string(&p.filter_query);
                        let sep = if qs.is_empty() { "" } else { "&" };
                        let verify_href = format!("/audit?{qs}{sep}verify=1");
                        let older = p.next_before.map(|b| format!("/audit?{qs}{sep}before={b}"));
                        let paged = query.read_untracked().get("before").is_some();
                        let newest = format!("/audit{}{qs}", if qs.is_empty() { "" } else { "?" });
                        view! {
                            <div class="toolbar">
                                <a class="button" href=verify_href>"Verify chain"</a>
                                <a class="button" rel="external" download="" href=format!("/api/v1/audit/export?format=csv{sep}{qs}")>"Export CSV (with proofs)"</a>
                                <a class="button" rel="external" download="" href=format!("/api/v1/audit/export?format=json{sep}{qs}")>"Export JSON (with proofs)"</a>
                            </div>
                            <p class="muted small">"Checkpoints of this trail are signed with the Ed25519 key "
                                <code class="wrap">{p.public_key.clone()}</code>
                                "; keep it to verify exports offline ("<code>"server verify-audit --export FILE --public-key KEY"</code>")."</p>
                            {p.verify.map(|v| view! { <VerifyPanel report=v/> })}
                            {if p.entries.is_empty() {
                                view! { <p class="muted">"No entries match these filters."</p> }.into_any()
                            } else {
                                view! { <AuditTable rows=p.entries filter_links=true/> }.into_any()
                            }}
                            <nav class="pager" aria-label="Pages">
                                {paged.then(|| view! { <a href=newest>"← Newest"</a> })}
                                {older.map(|href| view! { <a href=href rel="next">"Older entries →"</a> })}
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn VerifyPanel(report: VerifyReport) -> impl IntoView {
    let class = if report.ok { "verify ok" } else { "verify bad" };
    view! {
        <section class=class role="status" aria-label="Chain verification">
            <strong>{if report.ok { "Chain intact" } else { "Chain broken" }}</strong>
            <span>" — " {report.message.clone()}</span>
            <div class="muted">"Head hash: " <code>{report.head_hash.clone()}</code></div>
            <div class="muted">"Merkle root (RFC 6962): " <code>{report.merkle_root.clone()}</code></div>
            {report.checkpoint.clone().map(|c| view! {
                <div class="checkpoint">
                    {format!("Signed checkpoint: {} entries, root ", c.tree_size)}<code class="wrap">{c.root_hash}</code>
                    ", signed "<Time ts=c.issued_at.clone()/>{format!(" · {} checkpoint(s) verified", report.checkpoints_verified)}
                    <div class="muted">"Ed25519 public key: " <code class="wrap">{c.public_key}</code>" (key id "{c.key_id}")"</div>
                    <div class="muted">"Signature: " <code class="wrap">{c.signature}</code></div>
                </div>
            })}
        </section>
    }
}
