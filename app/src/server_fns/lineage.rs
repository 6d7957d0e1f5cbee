//! The lineage explorer: search, the laid-out graph around a node, a node's details, focus
//! and blast radius.

use crate::dto::{LineageQuery, LineageView};
use crate::error::AppError;
use leptos::prelude::*;

/// Deepest walk the explorer draws.
pub const MAX_EXPLORER_DEPTH: usize = 10;

#[cfg(feature = "ssr")]
fn short_time(ts: &str) -> String {
    // `2026-11-27T10:00:00.000000Z` → `2026-11-27 10:00:00`.
    ts.get(..19)
        .map(|s| s.replace('T', " "))
        .unwrap_or_else(|| ts.to_owned())
}

#[cfg(feature = "ssr")]
fn duration(start: &str, end: Option<&str>) -> String {
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;
    let (Some(end), Ok(s)) = (end, OffsetDateTime::parse(start, &Rfc3339)) else {
        return "—".into();
    };
    let Ok(e) = OffsetDateTime::parse(end, &Rfc3339) else {
        return "—".into();
    };
    let secs = (e - s).whole_seconds().max(0);
    if secs >= 3600 {
        format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
    } else if secs >= 60 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// SVG path data through a routed polyline: curves between layers, straight through dummies.
#[cfg(feature = "ssr")]
fn edge_path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, w) in points.windows(2).enumerate() {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if i == 0 {
            d.push_str(&format!("M{x0:.1},{y0:.1}"));
        }
        if (y1 - y0).abs() < 0.5 {
            d.push_str(&format!(" L{x1:.1},{y1:.1}"));
        } else {
            let dx = (x1 - x0) / 2.0;
            d.push_str(&format!(
                " C{:.1},{y0:.1} {:.1},{y1:.1} {x1:.1},{y1:.1}",
                x0 + dx,
                x1 - dx
            ));
        }
    }
    d
}

/// The explorer's data (see [`LineageQuery`]): `q` searches; `node` centres the graph
/// (`up`/`down` depths, default 2); `selected` opens a node's panel, with `field` its column
/// lineage; `focus` keeps only the paths through the selected node; `blast` lists and
/// highlights everything downstream of it.
#[server(prefix = "/api", endpoint = "explore_lineage")]
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub async fn explore_lineage(
    /// Focus node, direction, depth and filters.
    #[server(default)]
    query: LineageQuery,
) -> Result<LineageView, AppError> {
    let LineageQuery {
        q,
        node,
        up,
        down,
        selected,
        field,
        focus,
        blast,
    } = query;
    use crate::domain::graph_layout::{layout, LayoutOptions};
    use crate::domain::lineage::NodeRef;
    use crate::dto::{GraphEdge, GraphNode, NodeDetail};
    use crate::service::context;
    use crate::store as db;
    use crate::store::lineage as store;
    use std::collections::{BTreeMap, BTreeSet, VecDeque};
    let (state, _) = context::authorized(crate::domain::authz::Action::ReadWorkspace).await?;
    let pool = &state.pool;
    let depth = |v: Option<usize>, field: &str| match v {
        None => Ok(2),
        Some(d) if d <= MAX_EXPLORER_DEPTH => Ok(d),
        Some(_) => Err(AppError::validation(
            field,
            format!("depth must be from 0 to {MAX_EXPLORER_DEPTH}"),
        )),
    };
    let (up, down) = (depth(up, "up")?, depth(down, "down")?);
    let q = q.trim().to_owned();
    let hits = if q.is_empty() && node.is_empty() {
        store::search(pool, "", 12).await?
    } else if q.is_empty() {
        Vec::new()
    } else {
        store::search(pool, &q, 20).await?
    };
    let hits = hits
        .into_iter()
        .map(|(t, ns, name, id, _)| (t, ns, name, id))
        .collect();
    let totals = store::totals(pool).await?;
    let empty = LineageView {
        hits,
        node: None,
        nodes: Vec::new(),
        edges: Vec::new(),
        size: (0.0, 0.0),
        depth: (up, down),
        focus,
        detail: None,
        blast: None,
        truncated: false,
        totals,
    };
    if node.is_empty() {
        return Ok(empty);
    }
    let start = store::resolve(pool, &node)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no lineage node {node}")))?;
    let selected = if selected.is_empty() {
        Some(start.clone())
    } else {
        store::resolve(pool, &selected).await?
    };
    let g = store::subgraph(pool, &start, up, down).await?;
    let mut shown: BTreeSet<NodeRef> = g.nodes.keys().cloned().collect();
    // Focus: only what lies on a path through the selected node.
    if let (true, Some(sel)) = (focus, selected.as_ref().filter(|s| shown.contains(*s))) {
        let mut keep = BTreeSet::from([sel.clone()]);
        for upward in [true, false] {
            let mut queue = VecDeque::from([sel.clone()]);
            while let Some(n) = queue.pop_front() {
                if let Some((ups, downs)) = g.nodes.get(&n) {
                    for m in if upward { ups } else { downs } {
                        if shown.contains(m) && keep.insert(m.clone()) {
                            queue.push_back(m.clone());
                        }
                    }
                }
            }
        }
        shown = keep;
    }
    // Blast radius: everything downstream of the selected node, however far.
    let blast_set: Option<BTreeSet<NodeRef>> = match (&selected, blast) {
        (Some(sel), true) => {
            let b = store::subgraph(pool, sel, 0, 100).await?;
            Some(b.nodes.into_keys().filter(|n| n != sel).collect())
        }
        _ => None,
    };
    let keys: Vec<NodeRef> = shown.iter().cloned().collect();
    let index: BTreeMap<&NodeRef, usize> = keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let mut edges = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if let Some((_, downs)) = g.nodes.get(k) {
            for d in downs {
                if let Some(j) = index.get(d) {
                    edges.push((i, *j));
                }
            }
        }
    }
    let key_text: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    // Narrower gaps between layers than the default (more of the graph fits the window at its
    // own size) and wider ones between rows (the counts of hidden neighbours sit there).
    let opts = LayoutOptions {
        layer_gap: 72.0,
        node_gap: 30.0,
        ..LayoutOptions::default()
    };
    let laid = layout(&key_text, &edges, &opts);
    let lit = |n: &NodeRef| blast_set.as_ref().is_some_and(|b| b.contains(n));
    let mut nodes = Vec::with_capacity(keys.len());
    let datas = store::nodes_data(pool, keys.clone()).await?;
    for ((i, k), data) in keys.iter().enumerate().zip(datas) {
        let (ups, downs) = g.nodes.get(k).cloned().unwrap_or_default();
        let (kind, label, sublabel, state) = match k {
            NodeRef::Dataset { namespace, name } => {
                ("dataset", name.clone(), namespace.clone(), None)
            }
            NodeRef::Job { namespace, name } => (
                "job",
                name.clone(),
                namespace.clone(),
                data["latestRun"]["state"].as_str().map(str::to_owned),
            ),
            NodeRef::Run(id) => (
                "run",
                data["name"].as_str().unwrap_or(id).to_owned(),
                "training run".to_owned(),
                data["status"].as_str().map(str::to_owned),
            ),
            NodeRef::ModelVersion { name, version } => (
                "model",
                format!("{name} v{version}"),
                "model version".into(),
                None,
            ),
            NodeRef::Deployment(name) => ("deployment", name.clone(), "deployment".into(), None),
        };
        let b = laid.nodes[i];
        nodes.push(GraphNode {
            id: key_text[i].clone(),
            kind: kind.into(),
            label,
            sublabel,
            state,
            hidden_up: ups.iter().filter(|n| !shown.contains(*n)).count(),
            hidden_down: downs.iter().filter(|n| !shown.contains(*n)).count(),
            rect: (b.x, b.y, b.w, b.h),
            highlighted: lit(k),
        });
    }
    let edges = laid
        .edges
        .iter()
        .map(|e| GraphEdge {
            d: edge_path(&e.points),
            highlighted: lit(&keys[e.to])
                && (lit(&keys[e.from]) || Some(&keys[e.from]) == selected.as_ref()),
        })
        .collect();

    let detail = match &selected {
        None => None,
        Some(sel) => {
            let mut d = NodeDetail {
                id: sel.to_string(),
                kind: String::new(),
                name: String::new(),
                namespace: String::new(),
                fields: Vec::new(),
                versions: Vec::new(),
                runs: Vec::new(),
                facets: String::new(),
                training_runs: Vec::new(),
                column_lineage: None,
            };
            let pretty = |json: &str| {
                serde_json::from_str::<serde_json::Value>(json)
                    .and_then(|v| serde_json::to_string_pretty(&v))
                    .unwrap_or_else(|_| json.to_owned())
            };
            match sel {
                NodeRef::Dataset { namespace, name } => {
                    d.kind = "dataset".into();
                    d.name = name.clone();
                    d.namespace = namespace.clone();
                    if let Some((fields, facets, versions, _)) =
                        store::dataset_detail(pool, namespace, name).await?
                    {
                        let fields: Vec<crate::domain::lineage::SchemaField> =
                            serde_json::from_str(&fields).unwrap_or_default();
                        d.fields = fields
                            .into_iter()
                            .map(|f| {
                                (
                                    f.name,
                                    f.r#type.unwrap_or_default(),
                                    f.description.unwrap_or_default(),
                                )
                            })
                            .collect();
                        d.versions = versions
                            .into_iter()
                            .map(|(v, c, r)| (v, short_time(&c), r.unwrap_or_default()))
                            .collect();
                        d.facets = pretty(&facets);
                    }
                    if !field.is_empty() {
                        let sources = store::field_sources(pool, namespace, name, &field).await?;
                        d.column_lineage = Some((field.clone(), sources));
                    }
                    d.training_runs = crate::store::read_inline(pool, |db| {
                        store::neighbours(db, sel, store::Direction::Down)
                    })?
                    .into_iter()
                    .filter_map(|n| match n {
                        NodeRef::Run(id) => Some(id),
                        _ => None,
                    })
                    .map(|id| (id.clone(), id))
                    .collect();
                }
                NodeRef::Job { namespace, name } => {
                    d.kind = "job".into();
                    d.name = name.clone();
                    d.namespace = namespace.clone();
                    if let Some((facets, versions, runs, training)) =
                        store::job_detail(pool, namespace, name).await?
                    {
                        d.facets = pretty(&facets);
                        d.versions = versions
                            .into_iter()
                            .map(|(v, c)| (v, short_time(&c), String::new()))
                            .collect();
                        d.runs = runs
                            .into_iter()
                            .map(|(id, state, started, ended, error)| {
                                (
                                    id,
                                    state,
                                    short_time(&started),
                                    duration(&started, ended.as_deref()),
                                    error.unwrap_or_default(),
                                )
                            })
                            .collect();
                        d.training_runs = training;
                    }
                }
                NodeRef::Run(id) => {
                    let data = crate::store::read_inline(pool, |db| store::node_data(db, sel))?;
                    d.kind = "run".into();
                    d.name = data["name"].as_str().unwrap_or(id).to_owned();
                    d.training_runs = vec![(id.clone(), d.name.clone())];
                    // The training run itself, as one row of the runs table.
                    let ms = |k: &str| {
                        data[k]
                            .as_i64()
                            .and_then(|t| {
                                time::OffsetDateTime::from_unix_timestamp_nanos(
                                    t as i128 * 1_000_000,
                                )
                                .ok()
                            })
                            .map(crate::domain::audit_chain::format_ts)
                    };
                    if let Some(start) = ms("startTime") {
                        let end = ms("endTime");
                        d.runs = vec![(
                            id.clone(),
                            data["status"].as_str().unwrap_or_default().to_owned(),
                            short_time(&start),
                            duration(&start, end.as_deref()),
                            String::new(),
                        )];
                    }
                    if let Some(exp) = data["experimentId"].as_str() {
                        d.namespace = format!("MLflow experiment {exp}");
                    }
                }
                NodeRef::ModelVersion { name, .. } | NodeRef::Deployment(name) => {
                    d.kind = "model".into();
                    d.name = name.clone();
                }
            }
            // Training runs show their names, for the compare link.
            for (id, name) in d.training_runs.iter_mut() {
                if name == id {
                    if let Some(n) = db::tracking::run_name(pool, id).await? {
                        *name = n;
                    }
                }
            }
            Some(d)
        }
    };
    let blast = match blast_set {
        None => None,
        Some(set) => {
            let mut list: Vec<(String, String, String)> = Vec::with_capacity(set.len());
            for n in set {
                let (kind, label) = match &n {
                    NodeRef::Dataset { name, .. } => ("dataset", name.clone()),
                    NodeRef::Job { name, .. } => ("job", name.clone()),
                    // Training runs are listed by name, as on the Runs pages.
                    NodeRef::Run(id) => (
                        "run",
                        db::tracking::run_name(pool, id)
                            .await?
                            .unwrap_or_else(|| id.clone()),
                    ),
                    NodeRef::ModelVersion { .. } => ("model", n.to_string()),
                    NodeRef::Deployment(name) => ("deployment", name.clone()),
                };
                list.push((kind.to_owned(), n.to_string(), label));
            }
            list.sort_by(|a, b| (&a.0, &a.2, &a.1).cmp(&(&b.0, &b.2, &b.1)));
            Some(list)
        }
    };
    Ok(LineageView {
        node: Some(start.to_string()),
        nodes,
        edges,
        size: (laid.width, laid.height),
        detail,
        blast,
        truncated: g.truncated,
        ..empty
    })
}
