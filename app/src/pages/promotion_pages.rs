//! The reviewer queue and one promotion request: the checklist with its evidence, waivers,
//! reviews, and the history of the request.

use crate::components::error_view::{ErrorView, FormError};
use crate::components::url_state::use_query;
use crate::components::when::Time;
use crate::domain::promotion::{Check, CheckStatus};
use crate::dto::registry::RequestView;
use crate::server_fns::promotions::{
    promotion_queue, promotion_request, ReviewPromotion, WaiveCheck, WithdrawPromotion,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn status_class(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "check-pass",
        CheckStatus::Fail => "check-fail",
        CheckStatus::Missing => "check-missing",
        CheckStatus::Waived => "check-waived",
    }
}

/// The reviewer queue.
#[component]
pub fn PromotionsPage() -> impl IntoView {
    let query = use_query();
    let status = move || query.read().get("status").unwrap_or_default();
    let waiting = move || query.read().get("waiting").unwrap_or_default();
    let queue = Resource::new(
        move || (status(), waiting()),
        |(status, waiting)| promotion_queue(status, waiting),
    );
    view! {
        <Title text="Promotion requests"/>
        <p class="breadcrumb"><a href="/models">"Models & Approvals"</a></p>
        <h1>"Promotion requests"</h1>
        <p class="lede"><a href="/promotions/policies">"Promotion policies"</a></p>
        <nav class="tabs" aria-label="Request status">
            <a href="/promotions?status=pending&waiting=me"
               aria-current=move || (waiting() == "me").then_some("page")>"waiting for you"</a>" "
            {["pending", "approved", "rejected", "withdrawn", "expired", "all"].map(|s| view! {
                <a href=format!("/promotions?status={s}")
                   aria-current=move || { let cur = status(); (waiting() != "me" && (cur == s || (cur.is_empty() && s == "pending"))).then_some("page") }>{s}</a>" "
            }).collect_view()}
        </nav>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state"><h2>"No requests here"</h2>
                        <p>"Promotions are requested from a model's page (or "<code>"POST /api/v1/promotions"</code>")."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap"><table class="queue">
                            <thead><tr><th scope="col">"Request"</th><th scope="col">"Model version → alias"</th><th scope="col">"Requested by"</th>
                                <th scope="col">"Age"</th><th scope="col">"Risk"</th><th scope="col">"Checks"</th><th scope="col">"Approvals"</th><th scope="col">"Status"</th></tr></thead>
                            <tbody>{list.into_iter().map(|q| {
                                let r = q.request.clone();
                                view! {
                                    <tr>
                                        <td><a href=format!("/promotions/{}", r.request_id)>{format!("#{}", r.request_id)}</a>
                                            {(r.kind == "rollback").then(|| view! { " " <span class="badge">"rollback"</span> })}</td>
                                        <td>{format!("{}@{} → {}", r.name, r.version, r.alias)}</td>
                                        <td>{r.requested_by.clone()}</td>
                                        <td class="nowrap"><time datetime=r.requested_at.clone() title=crate::domain::when::human(&r.requested_at)>{crate::domain::when::ago(q.age_secs)}</time></td>
                                        <td><span class=format!("badge tier-{}", q.risk_tier)>{q.risk_tier.clone()}</span></td>
                                        <td>{format!("{}/{} clear", q.checks_clear, q.checks_total)}
                                            {(!q.open_checks.is_empty()).then(|| view! { <div class="small check-fail">{format!("open: {}", q.open_checks.join("; "))}</div> })}
                                            {(!q.waived_checks.is_empty()).then(|| view! { <div class="small waiver">{format!("waived: {}", q.waived_checks.join("; "))}</div> })}</td>
                                        <td class="num">{format!("{}/{}", q.approvals, q.approvals_needed)}</td>
                                        <td><span class=format!("badge promo-{}", r.status)>{r.status.clone()}</span></td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One promotion request.
#[component]
pub fn PromotionPage() -> impl IntoView {
    let params = use_params_map();
    let review = ServerAction::<ReviewPromotion>::new();
    let waive = ServerAction::<WaiveCheck>::new();
    let withdraw = ServerAction::<WithdrawPromotion>::new();
    let view_res = Resource::new(
        move || {
            (
                params
                    .read()
                    .get("id")
                    .and_then(|i| i.parse::<i64>().ok())
                    .unwrap_or(0),
                (
                    review.version().get(),
                    waive.version().get(),
                    withdraw.version().get(),
                ),
            )
        },
        |(id, _)| promotion_request(id),
    );
    view! {
        <Title text="Promotion request"/>
        <p class="breadcrumb"><a href="/models">"Models & Approvals"</a>" › "<a href="/promotions">"Promotion requests"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_res.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(v) => view! { <RequestBody v=v review=review waive=waive withdraw=withdraw/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RequestBody(
    v: RequestView,
    review: ServerAction<ReviewPromotion>,
    waive: ServerAction<WaiveCheck>,
    withdraw: ServerAction<WithdrawPromotion>,
) -> impl IntoView {
    let r = v.request.clone();
    let id = r.request_id;
    let pending = r.status == "pending";
    let waived: Vec<Check> = v
        .checks
        .iter()
        .filter(|c| c.waiver.is_some())
        .cloned()
        .collect();
    let lapsed = v
        .reviews
        .iter()
        .filter(|x| pending && x.evidence_changed && x.review.decision == "approve")
        .count();
    view! {
        <h1>{format!("#{id}: {}@{} → {}", r.name, r.version, r.alias)}</h1>
        <p class="lede">
            <span class=format!("badge promo-{}", r.status)>{r.status.clone()}</span>" "
            {(r.kind == "rollback").then(|| view! { <span class="badge">"rollback"</span>" " })}
            {format!("Requested by {} on ", r.requested_by)}<Time ts=r.requested_at.clone()/>
            {r.previous_version.map(|p| format!(" · '{}' served v{p} then", r.alias))}
            {pending.then(|| view! { " · expires "<Time ts=r.expires_at.clone()/> })}
        </p>
        <blockquote class="justification">{r.justification.clone()}</blockquote>
        {(!waived.is_empty()).then(|| view! {
            <div class="callout waiver-callout" role="note">
                <strong>{format!("{} check{} waived", waived.len(), if waived.len() == 1 { "" } else { "s" })}</strong>
                <ul>{waived.iter().map(|c| {
                    let w = c.waiver.clone().unwrap_or_else(|| unreachable!());
                    view! { <li>{format!("{} — waived by {}: “{}”", c.label, w.by, w.reason)}</li> }
                }).collect_view()}</ul>
            </div>
        })}
        <section aria-labelledby="checks-title">
            <h2 id="checks-title">"Checklist"</h2>
            <p class="muted small">{format!("Policy {} v{} · {} of {} approvals", v.policy.scope, v.policy.version, v.approvals, v.approvals_needed)}
                {(lapsed > 0).then(|| format!(" · {lapsed} lapsed (given on earlier evidence)"))}
                {(r.kind == "rollback").then_some(" · a rollback is not gated by the checks (expedited rule)")}</p>
            <table class="checklist">
                <thead><tr><th scope="col">"Check"</th><th scope="col">"Status"</th><th scope="col">"Evidence"</th></tr></thead>
                <tbody>{v.checks.iter().map(|c| {
                    let c = c.clone();
                    view! {
                        <tr class=status_class(c.status)>
                            <td>{c.label.clone()}</td>
                            <td><span class=format!("badge {}", status_class(c.status))>{c.status.as_str()}</span></td>
                            <td>{c.detail.clone()}
                                {c.link.clone().map(|l| view! { " " <a href=l>"evidence"</a> })}
                                {c.waiver.clone().map(|w| view! { <div class="waiver"><strong>"Waived"</strong>{format!(" by {} on {}: {}", w.by, w.at, w.reason)}</div> })}
                            </td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
        </section>
        {(v.can_waive && v.checks.iter().any(|c| c.waivable && matches!(c.status, CheckStatus::Fail | CheckStatus::Missing))).then(|| {
            let open: Vec<Check> = v.checks.iter().filter(|c| c.waivable && matches!(c.status, CheckStatus::Fail | CheckStatus::Missing)).cloned().collect();
            view! {
                <section aria-labelledby="waive-title" class="waive">
                    <h2 id="waive-title">"Waive a check"</h2>
                    <ActionForm action=waive attr:class="ab-form">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <label>"Check" <select name="check">{open.iter().map(|c| view! { <option value=c.id.clone()>{c.label.clone()}</option> }).collect_view()}</select></label>
                        <label>"Reason (kept with the approval record)" <textarea name="reason" rows="2" required minlength="10"></textarea></label>
                        <button type="submit" class="button">"Waive check"</button>
                    </ActionForm>
                    {move || waive.value().get().and_then(|r| r.err()).map(|e| view! { <FormError error=e/> })}
                </section>
            }
        })}
        {pending.then(|| match v.approve_refusal.clone() {
            None => view! {
                <section aria-labelledby="review-title" class="review">
                    <h2 id="review-title">"Review"</h2>
                    <ActionForm action=review attr:class="ab-form">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <fieldset class="row">
                            <legend>"Decision"</legend>
                            <label class="check"><input type="radio" name="decision" value="approve" required/>" Approve"</label>
                            <label class="check"><input type="radio" name="decision" value="reject"/>" Reject"</label>
                        </fieldset>
                        <label>"Comment" <textarea name="comment" rows="2" required></textarea></label>
                        <button type="submit" class="button primary">"Submit review"</button>
                    </ActionForm>
                    {move || review.value().get().and_then(|r| r.err()).map(|e| view! { <FormError error=e/> })}
                </section>
            }.into_any(),
            Some(why) => view! { <p class="muted" role="note">{why}</p> }.into_any(),
        })}
        {v.can_withdraw.then(|| view! {
            <ActionForm action=withdraw attr:class="inline-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <button type="submit" class="button">"Withdraw request"</button>
            </ActionForm>
        })}
        <section aria-labelledby="evidence-title">
            <h2 id="evidence-title">"Evidence"</h2>
            <p>"Digest of the evidence now: "<code class="wrap">{v.evidence_sha256.clone()}</code></p>
            {v.changed_since_request.then(|| view! {
                <p class="callout" role="note">{format!("The evidence has changed since the request was made (digest then {}).", r.evidence_sha256)}</p>
            })}
            <details><summary>"Evidence bundle (canonical JSON)"</summary><pre class="wrap">{v.evidence.canonical()}</pre></details>
        </section>
        <section aria-labelledby="reviews-title">
            <h2 id="reviews-title">"Reviews"</h2>
            {if v.reviews.is_empty() {
                view! { <p class="muted">"No reviews yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="reviews">{v.reviews.iter().map(|x| view! {
                        <li>
                            <strong>{x.review.reviewer.clone()}</strong>
                            {format!(" {} on ", if x.review.decision == "approve" { "approved" } else { "rejected" })}<Time ts=x.review.reviewed_at.clone()/>{format!(": “{}”", x.review.comment)}
                            {(x.evidence_changed && pending && x.review.decision == "approve").then(|| view! { <span class="badge check-missing">"lapsed: the evidence changed since this approval, which must be given again"</span> })}
                            {(x.evidence_changed && !(pending && x.review.decision == "approve")).then(|| view! { <span class="badge check-missing">"evidence changed since this review"</span> })}
                            <div class="muted small">"evidence digest "<code>{x.review.evidence_sha256.clone()}</code></div>
                        </li>
                    }).collect_view()}</ul>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            <ol class="history">{v.history.iter().map(|h| view! {
                <li><span class="nowrap"><Time ts=h.ts.clone()/></span>" "<strong>{h.action.clone()}</strong>{format!(" by {}", h.actor)}
                    " "<a href=format!("/audit?object_type=promotion&object_id={id}")>{format!("audit #{}", h.seq)}</a></li>
            }).collect_view()}</ol>
        </section>
    }
    .into_any()
}
