//! The report upload form, an island: a plain multipart form that works without JavaScript,
//! which once hydrated previews the chosen file, guesses its columns and shows upload progress.

use leptos::prelude::*;

/// The upload form: a plain multipart form, so it works without JavaScript. An island: once
/// hydrated, choosing a file previews its first rows and offers its columns (guessing label,
/// prediction and score by name), and the upload shows its progress.
#[island]
pub(super) fn UploadForm() -> impl IntoView {
    let columns = RwSignal::new(Vec::<String>::new());
    let rows = RwSignal::new(Vec::<Vec<String>>::new());
    let progress = RwSignal::new(None::<f64>);
    let file_input = NodeRef::<leptos::html::Input>::new();
    let on_file = move |_: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        if let Some(input) = file_input.get_untracked() {
            read_preview(input, columns, rows);
        }
    };
    // A file chosen before the island hydrated is previewed as soon as it has.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(input) = file_input.get_untracked() {
            if input.files().is_some_and(|f| f.length() > 0) {
                read_preview(input, columns, rows);
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        send_with_progress(ev, progress);
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, progress);
    };
    view! {
        <section id="upload" aria-labelledby="upload-title" class="card">
            <h2 id="upload-title">"Upload predictions"</h2>
            <form method="post" action="/fairness/upload" enctype="multipart/form-data" class="ab-form" on:submit=on_submit>
                <div class="row">
                    <label>"Model version" <input name="model_version" placeholder="credit-default@4" required/></label>
                    <label>"Evaluation dataset" <input name="dataset" placeholder="holdout-2026q3" required/></label>
                </div>
                <fieldset>
                    <legend>"Columns"</legend>
                    <div class="row">
                        <label>"Label (0/1)" <input name="label" list="file-columns" required value="label"/></label>
                        <label>"Prediction (0/1)" <input name="prediction" list="file-columns" placeholder="pred"/></label>
                        <label>"or score" <input name="score" list="file-columns" placeholder="score"/></label>
                        <label>"with threshold" <input name="threshold" inputmode="decimal" size="5"/></label>
                        <label>"Sample weight" <input name="weight" list="file-columns"/></label>
                    </div>
                    <div class="row">
                        <label>"Sensitive attributes (comma-separated)" <input name="attributes" placeholder="sex,age_band" required/></label>
                        <label>"Reference groups" <input name="reference" placeholder="sex:male,age_band:25-44"/></label>
                        <label>"Favourable prediction" <select name="favorable">
                            <option value="1">"1 (approve, hire…)"</option>
                            <option value="0">"0 (prediction 1 is adverse: default, fraud…)"</option>
                        </select></label>
                        <label class="check"><input type="checkbox" name="intersectional" value="true"/>" Intersectional groups"</label>
                    </div>
                </fieldset>
                // The file goes last: the server reads the mapping fields before streaming it.
                <label>"File (CSV, or CSV.gz)" <input type="file" name="file" accept=".csv,.gz,text/csv" required node_ref=file_input on:change=on_file/></label>
                {move || (!columns.get().is_empty()).then(|| view! {
                    <div class="table-wrap preview">
                        <table aria-label="Preview of the first rows">
                            <thead><tr>{columns.get().into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}</tr></thead>
                            <tbody>{rows.get().into_iter().map(|r| view! { <tr>{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr> }).collect_view()}</tbody>
                        </table>
                    </div>
                })}
                <datalist id="file-columns">{move || columns.get().into_iter().map(|c| view! { <option value=c></option> }).collect_view()}</datalist>
                <button type="submit" class="button primary">"Upload and analyse"</button>
                {move || progress.get().map(|p| view! {
                    <label class="progress">"Uploading " <progress max="100" value=format!("{:.0}", p * 100.0)></progress>{format!(" {:.0}%", p * 100.0)}</label>
                })}
            </form>
        </section>
    }
    .into_any()
}

/// Reads the first 64 KiB of the file chosen in `input` and fills the preview and the column
/// guesses.
#[cfg(feature = "hydrate")]
fn read_preview(
    input: web_sys::HtmlInputElement,
    columns: RwSignal<Vec<String>>,
    rows: RwSignal<Vec<Vec<String>>>,
) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(file) = input.files().and_then(|f| f.get(0)) else {
        return;
    };
    if file.name().ends_with(".gz") {
        // A compressed file cannot be previewed here; the server reads it.
        columns.set(Vec::new());
        return;
    }
    let Ok(slice) = file.slice_with_i32_and_i32(0, 64 * 1024) else {
        return;
    };
    let Ok(reader) = web_sys::FileReader::new() else {
        return;
    };
    let r = reader.clone();
    let form = input.form();
    let onload = Closure::<dyn FnMut()>::new(move || {
        let text = r
            .result()
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        let (header, body) = crate::domain::fairness::preview(&text, 5);
        use crate::domain::fairness::guess_column;
        // Guesses fill blanks only (and the untouched default label when the file has no such
        // column); what the user typed stays. The fields are read from the page, not from
        // signals, so text typed before the page hydrated is kept too.
        let field = |name: &str| {
            form.as_ref()
                .and_then(|f| {
                    f.query_selector(&format!("input[name={name}]"))
                        .ok()
                        .flatten()
                })
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        };
        let (label, prediction, score) = (field("label"), field("prediction"), field("score"));
        let value = |i: &Option<web_sys::HtmlInputElement>| {
            i.as_ref().map(|i| i.value()).unwrap_or_default()
        };
        let set = |i: &Option<web_sys::HtmlInputElement>, v: &str| {
            if let Some(i) = i {
                i.set_value(v);
            }
        };
        let untouched = |v: &str, default: &str| {
            v.trim().is_empty() || (v == default && !header.iter().any(|h| h == default))
        };
        if untouched(&value(&label), "label") {
            if let Some(c) = guess_column(&header, "label") {
                set(&label, &c);
            }
        }
        if value(&prediction).trim().is_empty() && value(&score).trim().is_empty() {
            match (
                guess_column(&header, "prediction"),
                guess_column(&header, "score"),
            ) {
                (Some(p), _) => set(&prediction, &p),
                (None, Some(sc)) => set(&score, &sc),
                _ => {}
            }
        }
        rows.set(body);
        columns.set(header);
    });
    reader.set_onload(Some(onload.as_ref().unchecked_ref()));
    onload.forget();
    let _ = reader.read_as_text(&slice);
}

/// Sends the form with XMLHttpRequest to show upload progress, then follows the server to the
/// report (or back to the form with its error).
#[cfg(feature = "hydrate")]
fn send_with_progress(ev: leptos::ev::SubmitEvent, progress: RwSignal<Option<f64>>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(form) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
    else {
        return;
    };
    let (Ok(data), Ok(xhr)) = (
        web_sys::FormData::new_with_form(&form),
        web_sys::XmlHttpRequest::new(),
    ) else {
        return;
    };
    ev.prevent_default();
    if xhr.open("POST", "/fairness/upload").is_err() {
        return;
    }
    if let Ok(upload) = xhr.upload() {
        let on_progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                if e.length_computable() && e.total() > 0.0 {
                    progress.set(Some(e.loaded() / e.total()));
                }
            });
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        on_progress.forget();
    }
    let x = xhr.clone();
    let on_load = Closure::<dyn FnMut()>::new(move || {
        let to = x.response_url();
        if let Some(w) = web_sys::window() {
            let _ = w
                .location()
                .assign(if to.is_empty() { "/fairness" } else { &to });
        }
    });
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    on_load.forget();
    progress.set(Some(0.0));
    if xhr.send_with_opt_form_data(Some(&data)).is_err() {
        progress.set(None);
    }
}
