-- MLflow-compatible tracking: experiments, runs, params, tags, metric histories, dataset inputs.

CREATE TABLE experiments (
    experiment_id     INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    artifact_location TEXT NOT NULL,
    lifecycle_stage   TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
    creation_time     INTEGER NOT NULL,
    last_update_time  INTEGER NOT NULL
) STRICT;

-- MLflow clients expect experiment 0, "Default", to exist.
INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
VALUES (0, 'Default', 'mlflow-artifacts:/0', CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE runs (
    run_uuid        TEXT PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiments(experiment_id),
    run_name        TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
    start_time      INTEGER,
    end_time        INTEGER,
    artifact_uri    TEXT NOT NULL,
    lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted'))
) STRICT, WITHOUT ROWID;
CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time DESC);

CREATE TABLE params (
    run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (run_uuid, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX params_by_key ON params(key, value);

CREATE TABLE run_tags (
    run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (run_uuid, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX run_tags_by_key ON run_tags(key, value);

-- Every logged point. SQLite cannot store NaN (it becomes NULL), so NaN is `is_nan = 1` with a
-- NULL value; infinities are stored as they are.
CREATE TABLE metric_history (
    run_uuid  TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL,
    is_nan    INTEGER NOT NULL DEFAULT 0 CHECK (is_nan IN (0, 1))
) STRICT;
CREATE INDEX metric_history_by_run_key ON metric_history(run_uuid, key, step, timestamp);

-- The latest point per run and key (greatest step, then timestamp, then value, as MLflow
-- defines it), so search and ordering never scan histories.
CREATE TABLE latest_metrics (
    run_uuid  TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL,
    is_nan    INTEGER NOT NULL DEFAULT 0 CHECK (is_nan IN (0, 1)),
    PRIMARY KEY (run_uuid, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX latest_metrics_by_key ON latest_metrics(key, value);

CREATE TABLE datasets (
    dataset_id    INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
    name          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    source_type   TEXT NOT NULL,
    source        TEXT NOT NULL,
    schema        TEXT,
    profile       TEXT,
    UNIQUE (experiment_id, name, digest)
) STRICT;

CREATE TABLE run_inputs (
    run_uuid   TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    dataset_id INTEGER NOT NULL REFERENCES datasets(dataset_id),
    tags       TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_uuid, dataset_id)
) STRICT, WITHOUT ROWID;
