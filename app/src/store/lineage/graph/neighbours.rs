//! Nodes' neighbours one step up or down, for many nodes at once: one statement per kind of
//! node and relation, whatever the number of nodes (the nodes are a `VALUES` list joined to the
//! tables, bound one value each). A walk reads a whole level of the graph this way, so on
//! PostgreSQL, where every statement is a round trip, a page costs a few dozen statements
//! rather than several per node.

use super::Direction;
use crate::domain::lineage::NodeRef;
use crate::store::direct::{Arg, Direct, Val};
use crate::store::DriverError;
use std::collections::BTreeMap;

/// Most nodes one statement names.
const CHUNK: usize = 400;

/// The requested nodes of one kind by their key (one or two columns, as text).
type Wanted = BTreeMap<Vec<String>, Vec<NodeRef>>;

/// Each of `nodes`' neighbours one step in `dir`, sorted and without repeats (every node
/// asked about has an entry, empty when it has no neighbour).
pub fn neighbours_of(
    db: &mut dyn Direct,
    nodes: &[NodeRef],
    dir: Direction,
) -> Result<BTreeMap<NodeRef, Vec<NodeRef>>, DriverError> {
    let mut out: BTreeMap<NodeRef, Vec<NodeRef>> =
        nodes.iter().map(|n| (n.clone(), Vec::new())).collect();
    let mut kinds: [Wanted; 5] = Default::default();
    for n in nodes {
        let (kind, key) = match n {
            NodeRef::Dataset { namespace, name } => (0, vec![namespace.clone(), name.clone()]),
            NodeRef::Job { namespace, name } => (1, vec![namespace.clone(), name.clone()]),
            NodeRef::Run(run) => (2, vec![run.clone()]),
            // A version that is no number has no neighbours.
            NodeRef::ModelVersion { name, version } => match version.parse::<i64>() {
                Ok(v) => (3, vec![name.clone(), v.to_string()]),
                Err(_) => continue,
            },
            NodeRef::Deployment(d) => match d.rsplit_once('@') {
                Some((model, alias)) => (4, vec![model.to_owned(), alias.to_owned()]),
                None => continue,
            },
        };
        kinds[kind].entry(key).or_default().push(n.clone());
    }
    let [datasets, jobs, runs, versions, deployments] = &kinds;
    for (wanted, relations) in [
        (datasets, dataset_relations(dir)),
        (jobs, job_relations(dir)),
        (runs, run_relations(dir)),
        (versions, version_relations(dir)),
        (deployments, deployment_relations(dir)),
    ] {
        for relation in relations {
            let keys: Vec<&Vec<String>> = wanted.keys().collect();
            for chunk in keys.chunks(CHUNK) {
                read(db, &relation, chunk, wanted, &mut out)?;
            }
        }
    }
    for v in out.values_mut() {
        v.sort();
        v.dedup();
    }
    Ok(out)
}

/// One relation of a kind of node: the statement after the `WITH w(...)` list of keys, how
/// many key columns it matches on, and how a row's remaining columns make the neighbour.
struct Relation {
    /// Key columns (`w.a`, and `w.b` when two); the version key is an integer.
    key_columns: usize,
    /// Whether the second key column is an integer (a model version).
    int_key: bool,
    /// The `SELECT` reading `w`: key columns first, then the neighbour's.
    select: &'static str,
    /// The neighbour from its columns.
    make: fn(Vec<String>) -> Option<NodeRef>,
}

fn two(cols: Vec<String>) -> Option<(String, String)> {
    let mut c = cols.into_iter();
    Some((c.next()?, c.next()?))
}

fn dataset(cols: Vec<String>) -> Option<NodeRef> {
    two(cols).map(|(namespace, name)| NodeRef::Dataset { namespace, name })
}

fn job(cols: Vec<String>) -> Option<NodeRef> {
    two(cols).map(|(namespace, name)| NodeRef::Job { namespace, name })
}

fn run(cols: Vec<String>) -> Option<NodeRef> {
    cols.into_iter().next().map(NodeRef::Run)
}

fn version(cols: Vec<String>) -> Option<NodeRef> {
    two(cols).map(|(name, version)| NodeRef::ModelVersion { name, version })
}

/// Jobs whose current version reads (down) or writes (up) the dataset; downstream also the
/// MLflow training runs that logged a dataset input of its name.
fn dataset_relations(dir: Direction) -> Vec<Relation> {
    let jobs = |select| Relation {
        key_columns: 2,
        int_key: false,
        select,
        make: job,
    };
    match dir {
        Direction::Up => vec![jobs(
            "SELECT w.a, w.b, j.namespace, j.name FROM w \
             JOIN lineage_datasets d ON d.namespace = w.a AND d.name = w.b \
             JOIN lineage_job_io io ON io.dataset_id = d.dataset_id AND io.direction = 'out' \
             JOIN lineage_jobs j ON j.job_id = io.job_id AND j.current_version = io.version",
        )],
        Direction::Down => vec![
            jobs(
                "SELECT w.a, w.b, j.namespace, j.name FROM w \
                 JOIN lineage_datasets d ON d.namespace = w.a AND d.name = w.b \
                 JOIN lineage_job_io io ON io.dataset_id = d.dataset_id AND io.direction = 'in' \
                 JOIN lineage_jobs j ON j.job_id = io.job_id AND j.current_version = io.version",
            ),
            Relation {
                key_columns: 2,
                int_key: false,
                select: "SELECT DISTINCT w.a, w.b, i.run_uuid FROM w \
                         JOIN datasets md ON md.name = w.b \
                         JOIN run_inputs i ON i.dataset_id = md.dataset_id \
                         JOIN runs r ON r.run_uuid = i.run_uuid AND r.lifecycle_stage = 'active'",
                make: run,
            },
        ],
    }
}

/// The datasets the job's current version reads (up) or writes (down); downstream also the
/// training runs its runs name (the `mlflow` run facet).
fn job_relations(dir: Direction) -> Vec<Relation> {
    let datasets = |select| Relation {
        key_columns: 2,
        int_key: false,
        select,
        make: dataset,
    };
    match dir {
        Direction::Up => vec![datasets(
            "SELECT w.a, w.b, d.namespace, d.name FROM w \
             JOIN lineage_jobs j ON j.namespace = w.a AND j.name = w.b \
             JOIN lineage_job_io io ON io.job_id = j.job_id AND io.version = j.current_version AND io.direction = 'in' \
             JOIN lineage_datasets d ON d.dataset_id = io.dataset_id",
        )],
        Direction::Down => vec![
            datasets(
                "SELECT w.a, w.b, d.namespace, d.name FROM w \
                 JOIN lineage_jobs j ON j.namespace = w.a AND j.name = w.b \
                 JOIN lineage_job_io io ON io.job_id = j.job_id AND io.version = j.current_version AND io.direction = 'out' \
                 JOIN lineage_datasets d ON d.dataset_id = io.dataset_id",
            ),
            Relation {
                key_columns: 2,
                int_key: false,
                select: "SELECT DISTINCT w.a, w.b, lr.mlflow_run_id FROM w \
                         JOIN lineage_jobs j ON j.namespace = w.a AND j.name = w.b \
                         JOIN lineage_runs lr ON lr.job_id = j.job_id \
                         JOIN runs r ON r.run_uuid = lr.mlflow_run_id AND r.lifecycle_stage = 'active'",
                make: run,
            },
        ],
    }
}

/// Upstream, the jobs whose runs name the training run and the datasets it logged as inputs;
/// downstream, the model versions registered from it.
fn run_relations(dir: Direction) -> Vec<Relation> {
    match dir {
        Direction::Down => vec![Relation {
            key_columns: 1,
            int_key: false,
            select: "SELECT w.a, v.name, v.version FROM w JOIN model_versions v ON v.run_id = w.a",
            make: version,
        }],
        Direction::Up => vec![
            Relation {
                key_columns: 1,
                int_key: false,
                select: "SELECT DISTINCT w.a, j.namespace, j.name FROM w \
                         JOIN lineage_runs lr ON lr.mlflow_run_id = w.a \
                         JOIN lineage_jobs j ON j.job_id = lr.job_id",
                make: job,
            },
            Relation {
                key_columns: 1,
                int_key: false,
                select: "SELECT DISTINCT w.a, ld.namespace, ld.name FROM w \
                         JOIN run_inputs i ON i.run_uuid = w.a \
                         JOIN datasets md ON md.dataset_id = i.dataset_id \
                         JOIN lineage_datasets ld ON ld.name = md.name",
                make: dataset,
            },
        ],
    }
}

/// Upstream, the training run the version was registered from; downstream, its deployments
/// (an alias serving the version, `model@alias`).
fn version_relations(dir: Direction) -> Vec<Relation> {
    vec![match dir {
        Direction::Up => Relation {
            key_columns: 2,
            int_key: true,
            select: "SELECT w.a, w.b, v.run_id FROM w \
                     JOIN model_versions v ON v.name = w.a AND v.version = w.b \
                     JOIN runs r ON r.run_uuid = v.run_id AND r.lifecycle_stage = 'active'",
            make: run,
        },
        Direction::Down => Relation {
            key_columns: 2,
            int_key: true,
            select: "SELECT w.a, w.b, al.name, al.alias FROM w \
                     JOIN model_aliases al ON al.name = w.a AND al.version = w.b",
            make: |cols| two(cols).map(|(m, a)| NodeRef::Deployment(format!("{m}@{a}"))),
        },
    }]
}

/// Upstream, the version the alias serves; nothing downstream.
fn deployment_relations(dir: Direction) -> Vec<Relation> {
    match dir {
        Direction::Down => Vec::new(),
        Direction::Up => vec![Relation {
            key_columns: 2,
            int_key: false,
            select: "SELECT w.a, w.b, al.name, al.version FROM w \
                     JOIN model_aliases al ON al.name = w.a AND al.alias = w.b",
            make: version,
        }],
    }
}

/// Reads one relation for `keys` and files each neighbour under the nodes asking.
fn read(
    db: &mut dyn Direct,
    relation: &Relation,
    keys: &[&Vec<String>],
    wanted: &Wanted,
    out: &mut BTreeMap<NodeRef, Vec<NodeRef>>,
) -> Result<(), DriverError> {
    let width = relation.key_columns;
    let rows: Vec<String> = (0..keys.len())
        .map(|i| {
            let marks: Vec<String> = (1..=width).map(|c| format!("${}", i * width + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let columns = if width == 1 { "a" } else { "a, b" };
    let sql = format!(
        "WITH w({columns}) AS (VALUES {}) {}",
        rows.join(", "),
        relation.select
    );
    let mut args: Vec<Arg<'_>> = Vec::with_capacity(keys.len() * width);
    for key in keys {
        for (c, value) in key.iter().take(width).enumerate() {
            args.push(match (relation.int_key && c == 1, value.parse::<i64>()) {
                (true, Ok(v)) => Arg::Int(v),
                _ => value.as_str().into(),
            });
        }
    }
    for row in db.rows(&sql, &args)? {
        let mut cols = row.into_iter().map(|v| match v {
            Val::Int(i) => Some(i.to_string()),
            v => v.text(),
        });
        let key: Option<Vec<String>> = cols.by_ref().take(width).collect();
        let rest: Option<Vec<String>> = cols.collect();
        let (Some(key), Some(rest)) = (key, rest) else {
            continue;
        };
        let Some(neighbour) = (relation.make)(rest) else {
            continue;
        };
        for node in wanted.get(&key).into_iter().flatten() {
            out.entry(node.clone()).or_default().push(neighbour.clone());
        }
    }
    Ok(())
}
