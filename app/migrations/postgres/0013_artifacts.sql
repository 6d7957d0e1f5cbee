-- Artifacts and MLflow 3 logged models. The bytes live in the artifact store (a folder beside
-- the database, or S3); this is the index of what was stored, with each file's size and
-- SHA-256, so listings never show a half-written file and a model's digest can be recorded
-- when it is finalized.

-- One row per stored file, keyed by its path in the store
-- (`<experiment>/<run>/artifacts/…` or `<experiment>/models/<model>/artifacts/…`).
CREATE TABLE artifact_files (
    path        TEXT PRIMARY KEY,
    size        BIGINT NOT NULL CHECK (size >= 0),
    sha256      TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);

CREATE TABLE logged_models (
    model_id          TEXT PRIMARY KEY,
    experiment_id     BIGINT NOT NULL REFERENCES experiments(experiment_id),
    name              TEXT NOT NULL,
    model_type        TEXT NOT NULL DEFAULT '',
    source_run_id     TEXT REFERENCES runs(run_uuid),
    status            TEXT NOT NULL DEFAULT 'LOGGED_MODEL_PENDING'
                      CHECK (status IN ('LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED')),
    status_message    TEXT NOT NULL DEFAULT '',
    artifact_uri      TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    creation_time     BIGINT NOT NULL,
    last_updated_time BIGINT NOT NULL,
    lifecycle_stage   TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
    -- Set when finalized READY: `sha256:<hex>` over the manifest, and the manifest itself
    -- (a JSON array of {path, size, sha256}). Never changed afterwards.
    digest            TEXT,
    manifest          TEXT,
    finalized_at      BIGINT
);
CREATE INDEX logged_models_by_experiment ON logged_models(experiment_id, creation_time DESC);
CREATE INDEX logged_models_by_run ON logged_models(source_run_id) WHERE source_run_id IS NOT NULL;

CREATE FUNCTION gatehouse_digest_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a finalized model''s digest never changes';
END;
$$;
CREATE TRIGGER logged_models_digest_frozen BEFORE UPDATE OF digest, manifest ON logged_models
    FOR EACH ROW WHEN (OLD.digest IS NOT NULL) EXECUTE FUNCTION gatehouse_digest_frozen();

CREATE TABLE logged_model_tags (
    model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE logged_model_params (
    model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

-- Metrics logged with a model_id (also kept in the run's history when a run is named).
CREATE TABLE logged_model_metrics (
    model_id       TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    value          DOUBLE PRECISION,
    is_nan         BOOLEAN NOT NULL DEFAULT FALSE,
    timestamp      BIGINT NOT NULL,
    step           BIGINT NOT NULL,
    run_uuid       TEXT,
    dataset_name   TEXT NOT NULL DEFAULT '',
    dataset_digest TEXT NOT NULL DEFAULT ''
);
CREATE INDEX logged_model_metrics_by_model ON logged_model_metrics(model_id, key, step, timestamp);

-- `runs/outputs`: the models a run produced.
CREATE TABLE run_outputs (
    run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES logged_models(model_id),
    step     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_uuid, model_id)
);

-- `runs/log-inputs` with models: the models a run consumed.
CREATE TABLE run_model_inputs (
    run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
    model_id TEXT NOT NULL REFERENCES logged_models(model_id),
    PRIMARY KEY (run_uuid, model_id)
);

-- A registered version may be a logged model (`model-versions/create` with `model_id`).
ALTER TABLE model_versions ADD COLUMN model_id TEXT REFERENCES logged_models(model_id);
CREATE INDEX model_versions_by_model_id ON model_versions(model_id) WHERE model_id IS NOT NULL;
