//! The explorer's side panel: what it shows of the selected dataset, job or training run.

use crate::domain::lineage::{NodeRef, SchemaField};
use crate::domain::when;
use crate::dto::NodeDetail;
use crate::error::AppError;
use crate::store::lineage as store;
use crate::store::Pool;

/// The side panel of `sel`: a dataset's schema, versions and column lineage (`field`); a job's
/// versions and runs; a training run as one row; the training runs with their names (each read
/// names them from the runs table), for the compare link.
/// `downs` are `sel`'s downstream neighbours when the walk has read them.
pub(super) async fn detail(
    pool: &Pool,
    sel: &NodeRef,
    field: &str,
    downs: Option<Vec<NodeRef>>,
) -> Result<NodeDetail, AppError> {
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
    match sel {
        NodeRef::Dataset { namespace, name } => {
            dataset_detail(pool, sel, (namespace, name), field, downs, &mut d).await?;
        }
        NodeRef::Job { namespace, name } => job_detail(pool, (namespace, name), &mut d).await?,
        NodeRef::Run(id) => run_detail(pool, sel, id, &mut d).await?,
        NodeRef::ModelVersion { name, .. } | NodeRef::Deployment(name) => {
            d.kind = "model".into();
            d.name = name.clone();
        }
    }
    Ok(d)
}

/// Stored facets, indented for reading (as stored when they are not JSON).
fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| json.to_owned())
}

async fn dataset_detail(
    pool: &Pool,
    sel: &NodeRef,
    (namespace, name): (&str, &str),
    field: &str,
    downs: Option<Vec<NodeRef>>,
    d: &mut NodeDetail,
) -> Result<(), AppError> {
    d.kind = "dataset".into();
    d.name = name.to_owned();
    d.namespace = namespace.to_owned();
    // The dataset's row, its column lineage and its training runs are independent reads,
    // asked together (on PostgreSQL each is a round trip).
    let row = async { Ok::<_, AppError>(store::dataset_detail(pool, namespace, name).await?) };
    let sources = async {
        if field.is_empty() {
            return Ok::<_, AppError>(None);
        }
        Ok(Some(
            store::field_sources(pool, namespace, name, field).await?,
        ))
    };
    let training = training_runs(pool, sel.clone(), downs);
    let (row, sources, training) = tokio::try_join!(row, sources, training)?;
    if let Some((fields, facets, versions, _)) = row {
        let fields: Vec<SchemaField> = serde_json::from_str(&fields).unwrap_or_default();
        d.fields = fields
            .into_iter()
            .map(|f| {
                let (kind, about) = (f.r#type.unwrap_or_default(), f.description);
                (f.name, kind, about.unwrap_or_default())
            })
            .collect();
        d.versions = versions
            .into_iter()
            .map(|(v, c, r)| (v, when::short(&c), r.unwrap_or_default()))
            .collect();
        d.facets = pretty(&facets);
    }
    d.column_lineage = sources.map(|s| (field.to_owned(), s));
    d.training_runs = training;
    Ok(())
}

/// The training runs that read dataset `node` (its downstream neighbours `downs` when the
/// walk has read them), with their names, in one read.
async fn training_runs(
    pool: &Pool,
    node: NodeRef,
    downs: Option<Vec<NodeRef>>,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(crate::store::direct::read(pool, move |db| {
        let downs = match downs {
            Some(downs) => downs,
            None => store::neighbours(db, &node, store::Direction::Down)?,
        };
        let runs: Vec<String> = downs
            .into_iter()
            .filter_map(|n| match n {
                NodeRef::Run(id) => Some(id),
                _ => None,
            })
            .collect();
        let mut names = store::run_names_in(db, &runs)?;
        Ok(runs
            .into_iter()
            .map(|id| {
                let name = names.remove(&id).unwrap_or_else(|| id.clone());
                (id, name)
            })
            .collect())
    })
    .await?)
}

async fn job_detail(
    pool: &Pool,
    (namespace, name): (&str, &str),
    d: &mut NodeDetail,
) -> Result<(), AppError> {
    d.kind = "job".into();
    d.name = name.to_owned();
    d.namespace = namespace.to_owned();
    if let Some((facets, versions, runs, training)) =
        store::job_detail(pool, namespace, name).await?
    {
        d.facets = pretty(&facets);
        d.versions = versions
            .into_iter()
            .map(|(v, c)| (v, when::short(&c), String::new()))
            .collect();
        d.runs = runs
            .into_iter()
            .map(|(id, state, started, ended, error)| {
                let took = when::duration(&started, ended.as_deref());
                (
                    id,
                    state,
                    when::short(&started),
                    took,
                    error.unwrap_or_default(),
                )
            })
            .collect();
        d.training_runs = training;
    }
    Ok(())
}

async fn run_detail(
    pool: &Pool,
    sel: &NodeRef,
    id: &str,
    d: &mut NodeDetail,
) -> Result<(), AppError> {
    let node = sel.clone();
    let data = crate::store::direct::read(pool, move |db| store::node_data(db, &node)).await?;
    d.kind = "run".into();
    d.name = data["name"].as_str().unwrap_or(id).to_owned();
    d.training_runs = vec![(id.to_owned(), d.name.clone())];
    // The training run itself, as one row of the runs table.
    let at = |k: &str| data[k].as_i64().map(when::rfc3339_ms);
    if let Some(start) = at("startTime") {
        let end = at("endTime");
        d.runs = vec![(
            id.to_owned(),
            data["status"].as_str().unwrap_or_default().to_owned(),
            when::short(&start),
            when::duration(&start, end.as_deref()),
            String::new(),
        )];
    }
    if let Some(exp) = data["experimentId"].as_str() {
        d.namespace = format!("MLflow experiment {exp}");
    }
    Ok(())
}
