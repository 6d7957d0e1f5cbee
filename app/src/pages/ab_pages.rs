//! The Experiments section: the list of A/B tests with a form for a new one, a test's page
//! (verdict, metrics, forest plot, cumulative lift, health, decision) and its read-only
//! shared view.

use crate::components::error_view::{ErrorView, FormError};
use crate::components::url_state::use_query;
use crate::components::when::Time;
use crate::domain::ab_tests::{Decision, Status};
use crate::domain::format::count;
use crate::dto::AbTestView;
use crate::server_fns::ab_tests::{
    get_ab_test, list_ab_tests, shared_ab_test, CreateAbTest, DecideAbTest, RevokeAbShare,
    SetAbStatus, ShareAbTest, UploadAbResults,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

mod results;
use results::Results;

pub(crate) fn decision_class(d: Decision) -> &'static str {
    match d {
        Decision::Ship => "verdict-ship",
        Decision::RollBack => "verdict-roll-back",
        Decision::KeepRunning => "verdict-keep-running",
        Decision::Invalid => "verdict-invalid",
    }
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Draft => "draft",
        Status::Running => "running",
        Status::Stopped => "stopped",
        Status::Decided => "decided",
    }
}

fn p_text(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

fn mean_text(m: f64, binomial: bool) -> String {
    if binomial {
        format!("{:.2}%", m * 100.0)
    } else if m.abs() >= 100.0 {
        format!("{m:.1}")
    } else {
        format!("{m:.3}")
    }
}

/// `/experiments`: every test with its status, verdict, days and users; a new test.
#[component]
pub fn ExperimentsPage() -> impl IntoView {
    let tests = Resource::new(|| (), |_| list_ab_tests());
    let create = ServerAction::<CreateAbTest>::new();
    view! {
        <Title text="Experiments"/>
        <h1>"Experiments"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tests.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state">
                            <h2>"No A/B tests yet"</h2>
                            <p>"Define a test below or through " <code>"POST /api/v1/experiments"</code>
                               ", then send per-variant counts daily."</p>
                        </div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="ab-tests">
                                <thead><tr>
                                    <th scope="col">"Test"</th><th scope="col">"Status"</th><th scope="col">"Verdict"</th>
                                    <th scope="col" class="num">"Days"</th><th scope="col" class="num">"Users"</th><th scope="col">"Owner"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! {
                                        <tr>
                                            <td><a href=format!("/experiments/{}", t.id)>{t.name.clone()}</a></td>
                                            <td><span class=format!("badge ab-status-{}", status_label(t.status))>{status_label(t.status)}</span></td>
                                            <td>{match t.verdict {
                                                Some(d) => view! { <span class=format!("badge {}", decision_class(d)) title=t.sentence.clone().unwrap_or_default()>{d.label()}</span> }.into_any(),
                                                None => view! { <span class="muted">"no data"</span> }.into_any(),
                                            }}</td>
                                            <td class="num">{t.days}</td>
                                            <td class="num">{t.users.map(count).unwrap_or_else(|| "—".into())}</td>
                                            <td>{t.owner.clone()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
        <NewTestForm action=create/>
    }
}

#[component]
fn NewTestForm(action: ServerAction<CreateAbTest>) -> impl IntoView {
    view! {
        <details class="new-test">
            <summary>"New A/B test"</summary>
            <ActionForm action=action attr:class="ab-form">
                <label>"Name" <input name="form[name]" required maxlength="200"/></label>
                <label>"Hypothesis" <textarea name="form[hypothesis]" rows="2"></textarea></label>
                <div class="row">
                    <label>"Status" <select name="form[status]"><option value="running">"running"</option><option value="draft">"draft"</option></select></label>
                    <label>"Start date" <input name="form[start_date]" type="date"/></label>
                    <label>"α" <input name="form[alpha]" value="0.05" inputmode="decimal" size="5"/></label>
                    <label>"Minimum detectable effect (%)" <input name="form[mde]" value="5" inputmode="decimal" size="5"/></label>
                    <label>"Correction" <select name="form[correction]">
                        <option value="holm">"Holm–Bonferroni"</option><option value="bh">"Benjamini–Hochberg"</option><option value="none">"none"</option>
                    </select></label>
                    <label class="check"><input type="checkbox" name="form[sequential]"/>" Sequential testing"</label>
                </div>
                <fieldset>
                    <legend>"Variants (the first is the control)"</legend>
                    {(0..4).map(|i| view! {
                        <div class="row">
                            <label>"Name" <input name=format!("form[variant][{i}]") value=match i { 0 => "control", 1 => "treatment", _ => "" }/></label>
                            <label>"Weight" <input name=format!("form[weight][{i}]") value="50" inputmode="decimal" size="4"/></label>
                            <label>"Model version" <input name=format!("form[model_version][{i}]") placeholder="model@version"/></label>
                        </div>
                    }).collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Metrics"</legend>
                    {(0..4).map(|i| view! {
                        <div class="row">
                            <label>"Name" <input name=format!("form[metric][{i}]")/></label>
                            <label>"Type" <select name=format!("form[kind][{i}]")><option value="binomial">"binomial"</option><option value="continuous">"continuous"</option></select></label>
                            <label>"Better when" <select name=format!("form[direction][{i}]")><option value="increase">"higher"</option><option value="decrease">"lower"</option></select></label>
                            <label>"Role" <select name=format!("form[role][{i}]")><option value="goal">"goal"</option><option value="guardrail">"guardrail"</option></select></label>
                            <label>"Tolerance (%)" <input name=format!("form[tolerance][{i}]") inputmode="decimal" size="4"/></label>
                        </div>
                    }).collect_view()}
                </fieldset>
                <button type="submit" class="button primary">"Create test"</button>
            </ActionForm>
            {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <FormError error=e/> })}
        </details>
    }
}

/// `/experiments/:id`.
#[component]
pub fn AbTestPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query();
    let upload = ServerAction::<UploadAbResults>::new();
    let decide = ServerAction::<DecideAbTest>::new();
    let status = ServerAction::<SetAbStatus>::new();
    let share = ServerAction::<ShareAbTest>::new();
    let revoke = ServerAction::<RevokeAbShare>::new();
    let test = Resource::new(
        move || {
            (
                params
                    .read()
                    .get("id")
                    .and_then(|i| i.parse::<i64>().ok())
                    .unwrap_or(0),
                query.read().get("correction").unwrap_or_default(),
                (
                    upload.version().get(),
                    decide.version().get(),
                    status.version().get(),
                ),
                (share.version().get(), revoke.version().get()),
            )
        },
        |(id, correction, _, _)| get_ab_test(id, correction),
    );
    view! {
        <Title text="A/B test"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match test.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(v) => view! {
                        <p class="breadcrumb"><a href="/experiments">"Experiments"</a></p>
                        <TestBody v=v.clone() shared=false/>
                        <Manage v=v upload=upload decide=decide status=status share=share revoke=revoke/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/shared/ab/:token`: the same page, read-only, for people without an account.
#[component]
pub fn SharedAbTestPage() -> impl IntoView {
    let params = use_params_map();
    let test = Resource::new(
        move || params.read().get("token").unwrap_or_default(),
        shared_ab_test,
    );
    view! {
        <Title text="Shared A/B test"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match test.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(v) => view! {
                        <p class="notice">"A read-only copy shared from Gatehouse. It shows the results as they are now."</p>
                        <TestBody v=v shared=true/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TestBody(v: AbTestView, shared: bool) -> impl IntoView {
    let def = v.def.clone();
    let variants = def.variants.clone();
    let current = v
        .analysis
        .as_ref()
        .map(|a| a.correction)
        .unwrap_or(def.correction);
    view! {
        <h1>{def.name.clone()}</h1>
        <dl class="facts">
            <div><dt>"Status"</dt><dd><span class=format!("badge ab-status-{}", status_label(v.status))>{status_label(v.status)}</span></dd></div>
            <div><dt>"Owner"</dt><dd>{def.owner.clone().unwrap_or_default()}</dd></div>
            <div><dt>"Started"</dt><dd>{def.start_date.clone().unwrap_or_else(|| "—".into())}</dd></div>
            <div><dt>"Days with data"</dt><dd>{v.days.len()}</dd></div>
            <div><dt>"Variants"</dt><dd>{variants.iter().map(|x| match &x.model_version {
                Some(m) => format!("{} ({m}, weight {})", x.name, x.weight),
                None => format!("{} (weight {})", x.name, x.weight),
            }).collect::<Vec<_>>().join(" · ")}</dd></div>
        </dl>
        {(!def.hypothesis.is_empty()).then(|| view! { <p class="hypothesis"><strong>"Hypothesis: "</strong>{def.hypothesis.clone()}</p> })}
        {match v.analysis.clone() {
            None => view! {
                <div class="verdict verdict-none" role="status">
                    <p class="verdict-label">"No verdict yet"</p>
                    <p>{v.unavailable.clone().unwrap_or_default()}</p>
                </div>
            }.into_any(),
            Some(a) => view! { <Results a=a v=v.clone() current=current shared=shared/> }.into_any(),
        }}
        <Decisions v=v/>
    }
}

#[component]
fn Decisions(v: AbTestView) -> impl IntoView {
    (!v.decisions.is_empty()).then(|| view! {
        <section aria-labelledby="decisions-title">
            <h2 id="decisions-title">"Decisions"</h2>
            <table class="decisions"><thead><tr><th scope="col">"When"</th><th scope="col">"Decision"</th><th scope="col">"By"</th><th scope="col">"Comment"</th><th scope="col">"Verdict then"</th></tr></thead>
            <tbody>{v.decisions.iter().map(|d| view! {
                <tr><td class="nowrap"><Time ts=d.decided_at.clone()/></td><td><strong>{d.decision.replace('_', " ")}</strong></td><td>{d.decided_by.clone()}</td><td>{d.comment.clone()}</td><td class="muted">{d.sentence.clone()}</td></tr>
            }).collect_view()}</tbody></table>
        </section>
    })
}

#[component]
fn Manage(
    v: AbTestView,
    upload: ServerAction<UploadAbResults>,
    decide: ServerAction<DecideAbTest>,
    status: ServerAction<SetAbStatus>,
    share: ServerAction<ShareAbTest>,
    revoke: ServerAction<RevokeAbShare>,
) -> impl IntoView {
    let id = v.id;
    let decided = v.status == Status::Decided;
    let running = v.status == Status::Running;
    let shares = v.shares.clone();
    let fresh_share = v.new_share.clone();
    let (can_decide, can_manage) = (v.can_decide, v.can_manage);
    view! {
        {can_decide.then(|| view! {
            <section aria-labelledby="decide-title" class="decide">
                <h2 id="decide-title">"Record the decision"</h2>
                <ActionForm action=decide attr:class="ab-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <fieldset class="row">
                        <legend>"Decision"</legend>
                        <label class="check"><input type="radio" name="decision" value="ship" required/>" Ship"</label>
                        <label class="check"><input type="radio" name="decision" value="roll_back"/>" Roll back"</label>
                        <label class="check"><input type="radio" name="decision" value="extend"/>" Extend"</label>
                    </fieldset>
                    <label>"Comment" <textarea name="comment" rows="2" required></textarea></label>
                    <button type="submit" class="button primary">"Record decision"</button>
                </ActionForm>
                {move || decide.value().get().and_then(|r| r.err()).map(|e| view! { <FormError error=e/> })}
            </section>
        })}
        {can_manage.then(move || view! {
            <section aria-labelledby="data-title" class="manage">
                <h2 id="data-title">"Results and sharing"</h2>
                <ActionForm action=upload attr:class="ab-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label>"Paste results as CSV ("<code>"day,metric,variant,units,conversions,n,sum,sum_squares,sum_x,sum_x2,sum_xy"</code>"; an empty metric is the units assigned)"
                        <textarea name="csv" rows="5" required placeholder="day,metric,variant,units,conversions\n2026-11-20,checkout,control,1000,100"></textarea>
                    </label>
                    <label class="check"><input type="checkbox" name="cumulative"/>" Rows are running totals"</label>
                    <button type="submit" class="button">"Add results"</button>
                </ActionForm>
                {move || upload.value().get().map(|r| match r {
                    Ok(n) => view! { <p class="notice" role="status">{format!("{n} rows stored.")}</p> }.into_any(),
                    Err(e) => view! { <FormError error=e/> }.into_any(),
                })}
                {(!decided).then(|| view! {
                    <ActionForm action=status attr:class="inline-form">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <input type="hidden" name="status" value=if running { "stopped" } else { "running" }/>
                        <button type="submit" class="button">{if running { "Stop the test" } else { "Start the test" }}</button>
                    </ActionForm>
                })}
                <ActionForm action=share attr:class="inline-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label>"Share read-only for " <input name="days" value="7" size="3" inputmode="numeric"/> " days"</label>
                    <button type="submit" class="button">"Create share link"</button>
                </ActionForm>
                {move || match share.value().get() {
                    Some(Err(e)) => Some(view! { <FormError error=e/> }.into_any()),
                    Some(Ok(url)) => Some(view! { <p class="notice" role="status">"Share link (shown once): "<a class="share-url" href=url.clone()>{url.clone()}</a></p> }.into_any()),
                    None => fresh_share.clone().map(|url| view! { <p class="notice" role="status">"Share link (shown once): "<a class="share-url" href=url.clone()>{url.clone()}</a></p> }.into_any()),
                }}
                {(!shares.is_empty()).then(move || view! {
                    <table class="shares"><thead><tr><th scope="col">"Link"</th><th scope="col">"Created"</th><th scope="col">"Expires"</th><th scope="col">"State"</th></tr></thead>
                    <tbody>{shares.into_iter().map(|l| {
                        let live = l.revoked_at.is_none();
                        view! {
                            <tr><td>{format!("#{}", l.id)}" by "{l.created_by.clone()}</td><td class="nowrap"><Time ts=l.created_at.clone()/></td><td class="nowrap"><Time ts=l.expires_at.clone()/></td>
                            <td>{if live {
                                view! {
                                    <ActionForm action=revoke attr:class="inline-form">
                                        <input type="hidden" name="id" value=id.to_string()/>
                                        <input type="hidden" name="link" value=l.id.to_string()/>
                                        <button type="submit" class="button small danger">"Revoke"</button>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! { <span class="muted">"revoked"</span> }.into_any()
                            }}</td></tr>
                        }
                    }).collect_view()}</tbody></table>
                })}
            </section>
        })}
    }
}
