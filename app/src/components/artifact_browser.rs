//! A folder tree of stored files with sizes and download links, and a preview of the file named
//! in the URL (`?artifact=path`): text, CSV as a table, raster images. HTML, SVG and anything
//! else are never rendered, only offered for download. Works without JavaScript: folders are
//! `<details>`, a file's preview is a link.

use crate::dto::artifacts::{ArtifactFile, ArtifactPreview, PreviewKind};
use crate::server_fns::artifacts::download_href;
use leptos::prelude::*;
use std::collections::BTreeMap;

/// Sizes as people read them.
pub fn fmt_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[derive(Default)]
struct Folder {
    folders: BTreeMap<String, Folder>,
    files: Vec<(String, ArtifactFile)>,
}

impl Folder {
    fn build(files: &[ArtifactFile]) -> Folder {
        let mut root = Folder::default();
        for f in files {
            let mut at = &mut root;
            let parts: Vec<&str> = f.path.split('/').collect();
            for dir in &parts[..parts.len() - 1] {
                at = at.folders.entry(dir.to_string()).or_default();
            }
            at.files
                .push((parts[parts.len() - 1].to_string(), f.clone()));
        }
        root
    }

    fn size(&self) -> u64 {
        self.files.iter().map(|(_, f)| f.size).sum::<u64>()
            + self.folders.values().map(Folder::size).sum::<u64>()
    }
}

fn render(folder: Folder, root: &str, page: &str, selected: &str) -> AnyView {
    let folders = folder
        .folders
        .into_iter()
        .map(|(name, sub)| {
            let size = fmt_bytes(sub.size());
            let open = selected.starts_with(&format!("{}/", prefix_of(&sub, &name)));
            view! {
                <li class="folder">
                    <details open=open>
                        <summary><span class="name">{name.clone()}"/"</span>" "<span class="muted small">{size}</span></summary>
                        {render(sub, root, page, selected)}
                    </details>
                </li>
            }
        })
        .collect_view();
    let files = folder
        .files
        .into_iter()
        .map(|(name, f)| {
            let href = download_href(&format!("{root}/{}", f.path));
            let preview = format!("{page}?artifact={}", crate::domain::url::encode(&f.path));
            let current = f.path == selected;
            view! {
                <li class="file" class:selected=current>
                    <a href=preview aria-current=current.then_some("true")>{name}</a>" "
                    <span class="muted small">{fmt_bytes(f.size)}</span>" "
                    <a class="small" rel="external" download="" href=href>"download"</a>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="tree">{folders}{files}</ul> }.into_any()
}

/// The path of some file under `sub`, minus its own name: the folder's path from the root.
fn prefix_of(sub: &Folder, name: &str) -> String {
    fn first(f: &Folder) -> Option<&ArtifactFile> {
        f.files
            .first()
            .map(|(_, a)| a)
            .or_else(|| f.folders.values().find_map(first))
    }
    match first(sub) {
        Some(a) => {
            let idx = a.path.find(&format!("{name}/")).unwrap_or(0);
            a.path[..idx + name.len()].to_string()
        }
        None => name.to_string(),
    }
}

/// The browser over `files` stored under `root` (a store key), on the page at `page`, with the
/// preview of the chosen file, if any.
#[component]
pub fn ArtifactBrowser(
    /// The store key the files live under.
    root: String,
    /// Every stored file, with its path below `root` and its size.
    files: Vec<ArtifactFile>,
    /// The page's own address, which the preview links point back to.
    page: String,
    /// The chosen file's preview, when one is chosen.
    preview: Option<ArtifactPreview>,
) -> impl IntoView {
    if files.is_empty() {
        return view! { <p class="muted">"No files were logged to this run."</p> }.into_any();
    }
    let total = fmt_bytes(files.iter().map(|f| f.size).sum());
    let count = files.len();
    let chosen = preview.as_ref().map(|p| p.path.clone()).unwrap_or_default();
    let tree = render(Folder::build(&files), &root, &page, &chosen);
    let preview = preview.map(|p| view! { <PreviewPanel p=p/> });
    view! {
        <div class="artifacts">
            <nav class="artifact-tree" aria-label="Files">
                <p class="muted small">{format!("{count} file{}, {total}", if count == 1 { "" } else { "s" })}</p>
                {tree}
            </nav>
            <div class="artifact-preview">
                {match preview {
                    Some(p) => p.into_any(),
                    None => view! { <p class="muted">"Choose a file to preview it."</p> }.into_any(),
                }}
            </div>
        </div>
    }
    .into_any()
}

#[component]
fn PreviewPanel(p: ArtifactPreview) -> impl IntoView {
    let body = match p.kind {
        PreviewKind::Text => view! { <pre class="artifact-text" tabindex="0">{p.text.clone()}</pre> }.into_any(),
        PreviewKind::Csv => {
            let mut rows = p.rows.clone().into_iter();
            let head = rows.next().unwrap_or_default();
            view! {
                <div class="table-wrap" tabindex="0"><table class="artifact-csv">
                    <thead><tr>{head.into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}</tr></thead>
                    <tbody>{rows.map(|r| view! { <tr>{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr> }).collect_view()}</tbody>
                </table></div>
            }.into_any()
        }
        PreviewKind::Image => view! { <img class="artifact-image" src=p.href.clone() alt=format!("Preview of {}", p.path)/> }.into_any(),
        PreviewKind::None => view! { <p class="muted">"No preview for this kind of file; download it to open it."</p> }.into_any(),
    };
    view! {
        <h3 class="artifact-name"><code>{p.path.clone()}</code></h3>
        <p class="small muted">{fmt_bytes(p.size)}" · "<a rel="external" download="" href=p.href.clone()>"Download"</a>
            {p.truncated.then_some(" · showing the beginning only")}</p>
        {body}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(fmt_bytes(0), "0 B");
        assert_eq!(fmt_bytes(999), "999 B");
        assert_eq!(fmt_bytes(1_500), "1.5 KB");
        assert_eq!(fmt_bytes(3_000_000), "3.0 MB");
    }

    #[test]
    fn files_fold_into_folders() {
        let f = |p: &str, s: u64| ArtifactFile {
            path: p.into(),
            size: s,
            sha256: String::new(),
        };
        let tree = Folder::build(&[f("a.txt", 1), f("dir/b.txt", 2), f("dir/sub/c.txt", 3)]);
        assert_eq!(tree.files.len(), 1);
        assert_eq!(tree.folders["dir"].files.len(), 1);
        assert_eq!(tree.folders["dir"].size(), 5);
        assert_eq!(
            prefix_of(&tree.folders["dir"].folders["sub"], "sub"),
            "dir/sub"
        );
    }
}
