//! Auditors (and administrators): the trail's last verification and checkpoint, and the latest
//! sensitive changes.

use crate::components::audit_table::AuditTable;
use crate::components::when::Ago;
use crate::dto::home::{AdminHome, AuditorHome};
use leptos::prelude::*;

#[component]
pub fn AuditSection(data: AuditorHome, admin: Option<AdminHome>, now: String) -> impl IntoView {
    let AuditorHome {
        last_verification,
        checkpoint,
        entries,
        sensitive,
    } = data;
    view! {
        <section class="card" aria-labelledby="trail-title">
            <h2 id="trail-title">"Audit trail"</h2>
            <dl class="facts">
                <div><dt>"Entries"</dt><dd>{entries}</dd></div>
                <div><dt>"Last verification"</dt><dd>{match last_verification {
                    Some(v) => view! {
                        <span class=if v.ok { "badge state-complete" } else { "badge state-fail" }>{if v.ok { "intact" } else { "broken" }}</span>
                        " "<Ago ts=v.verified_at.clone() now=now.clone()/>{format!(" by {}: {} entries, {} checkpoint(s)", v.verified_by, v.entries, v.checkpoints)}
                        {(!v.ok).then(|| view! { <div class="check-fail small">{v.message.clone()}</div> })}
                    }.into_any(),
                    None => view! { <span class="check-missing">"never verified"</span> }.into_any(),
                }}</dd></div>
                <div><dt>"Latest checkpoint"</dt><dd>{match checkpoint {
                    Some((size, at)) => view! { {format!("{size} entries, signed ")}<Ago ts=at now=now.clone()/> }.into_any(),
                    None => view! { <span class="muted">"none signed yet"</span> }.into_any(),
                }}</dd></div>
                {admin.map(|a| view! {
                    <div><dt>"Accounts"</dt><dd><a href="/admin">{format!("{} users, {} live API tokens", a.users, a.live_tokens)}</a></dd></div>
                })}
            </dl>
            <p><a class="button" href="/audit?verify=1">"Verify chain"</a></p>
        </section>
        <section class="card home-wide" aria-labelledby="sensitive-title">
            <h2 id="sensitive-title">"Sensitive changes"</h2>
            <p class="muted small">"Waivers, policy changes, new accounts and role changes."</p>
            {if sensitive.is_empty() {
                view! { <p class="muted">"None recorded."</p> }.into_any()
            } else {
                view! { <AuditTable rows=sensitive filter_links=true/> }.into_any()
            }}
        </section>
    }
}
