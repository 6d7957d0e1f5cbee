-- OpenLineage: every raw event, and the graph normalised from them.
--
-- Derived rows are functions of the set of events received, not of their order: a run is
-- re-folded from all its events on each delivery, and facets, schemas and versions are
-- replaced only by an event with a later (event time, dedup key).

CREATE TABLE lineage_events (
    event_id    INTEGER PRIMARY KEY,
    -- run:<runId>:<eventType>:<eventTime>, dataset:<ns>:<name>:<eventTime> or job:…
    dedup_key   TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('run', 'dataset', 'job')),
    event_type  TEXT,
    event_time  TEXT NOT NULL,
    run_id      TEXT,
    received_at TEXT NOT NULL,
    body        TEXT NOT NULL
) STRICT;
CREATE INDEX lineage_events_by_run ON lineage_events(run_id) WHERE run_id IS NOT NULL;

CREATE TABLE lineage_namespaces (
    name       TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE lineage_datasets (
    dataset_id      INTEGER PRIMARY KEY,
    namespace       TEXT NOT NULL REFERENCES lineage_namespaces(name),
    name            TEXT NOT NULL,
    -- Latest facets and schema fields (JSON), and the (event time, dedup key) they came from.
    facets          TEXT NOT NULL DEFAULT '{}',
    facets_from     TEXT NOT NULL DEFAULT '',
    fields          TEXT NOT NULL DEFAULT '[]',
    fields_from     TEXT NOT NULL DEFAULT '',
    current_version TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (namespace, name)
) STRICT;
CREATE INDEX lineage_datasets_by_name ON lineage_datasets(name);

CREATE TABLE lineage_dataset_versions (
    dataset_id     INTEGER NOT NULL REFERENCES lineage_datasets(dataset_id),
    -- The version facet's datasetVersion, or run:<runId> for a run's output without one.
    version        TEXT NOT NULL,
    run_id         TEXT,
    fields         TEXT NOT NULL DEFAULT '[]',
    facets         TEXT NOT NULL DEFAULT '{}',
    -- [[field, namespace, name, input field], …] from the columnLineage facet.
    column_lineage TEXT NOT NULL DEFAULT '[]',
    facets_from    TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (dataset_id, version)
) STRICT, WITHOUT ROWID;

CREATE TABLE lineage_jobs (
    job_id          INTEGER PRIMARY KEY,
    namespace       TEXT NOT NULL REFERENCES lineage_namespaces(name),
    name            TEXT NOT NULL,
    facets          TEXT NOT NULL DEFAULT '{}',
    facets_from     TEXT NOT NULL DEFAULT '',
    current_version TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (namespace, name)
) STRICT;
CREATE INDEX lineage_jobs_by_name ON lineage_jobs(name);

-- A job version is a digest of its inputs and outputs. Runs name their version; a JobEvent
-- declares one (static_time: its latest event time). The current version is the one with the
-- latest run or declaration.
CREATE TABLE lineage_job_versions (
    job_id      INTEGER NOT NULL REFERENCES lineage_jobs(job_id),
    version     TEXT NOT NULL,
    static_time TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (job_id, version)
) STRICT, WITHOUT ROWID;

CREATE TABLE lineage_job_io (
    job_id     INTEGER NOT NULL,
    version    TEXT NOT NULL,
    direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    dataset_id INTEGER NOT NULL REFERENCES lineage_datasets(dataset_id),
    PRIMARY KEY (job_id, version, direction, dataset_id),
    FOREIGN KEY (job_id, version) REFERENCES lineage_job_versions(job_id, version) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX lineage_job_io_by_dataset ON lineage_job_io(dataset_id, direction);

CREATE TABLE lineage_runs (
    run_id          TEXT PRIMARY KEY,
    job_id          INTEGER NOT NULL REFERENCES lineage_jobs(job_id),
    job_version     TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER')),
    started_at      TEXT NOT NULL,
    ended_at        TEXT,
    last_event_time TEXT NOT NULL,
    nominal_start   TEXT,
    nominal_end     TEXT,
    parent_run_id   TEXT,
    error_message   TEXT,
    mlflow_run_id   TEXT,
    facets          TEXT NOT NULL DEFAULT '{}'
) STRICT, WITHOUT ROWID;
CREATE INDEX lineage_runs_by_job ON lineage_runs(job_id, last_event_time DESC);
CREATE INDEX lineage_runs_by_mlflow ON lineage_runs(mlflow_run_id) WHERE mlflow_run_id IS NOT NULL;

CREATE TABLE lineage_run_io (
    run_id     TEXT NOT NULL REFERENCES lineage_runs(run_id) ON DELETE CASCADE,
    direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    dataset_id INTEGER NOT NULL REFERENCES lineage_datasets(dataset_id),
    PRIMARY KEY (run_id, direction, dataset_id)
) STRICT, WITHOUT ROWID;

-- MLflow dataset inputs join the lineage graph by name (see the README's lineage section).
CREATE INDEX datasets_by_name ON datasets(name);
