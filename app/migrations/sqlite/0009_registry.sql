-- The model registry, in MLflow's shapes: registered models (with the risk tier promotion
-- policies read), versions linked to their training run, tags, aliases, and every move of an
-- alias, so "what served as production at time T" has an answer.
CREATE TABLE registered_models (
    name              TEXT PRIMARY KEY,
    description       TEXT NOT NULL DEFAULT '',
    risk_tier         TEXT NOT NULL DEFAULT 'medium' CHECK (risk_tier IN ('low', 'medium', 'high')),
    created_by        TEXT NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL
) STRICT;

CREATE TABLE registered_model_tags (
    name  TEXT NOT NULL REFERENCES registered_models(name) ON DELETE CASCADE,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE model_versions (
    name              TEXT NOT NULL REFERENCES registered_models(name),
    version           INTEGER NOT NULL,
    source            TEXT NOT NULL,
    run_id            TEXT,
    run_link          TEXT NOT NULL DEFAULT '',
    description       TEXT NOT NULL DEFAULT '',
    user_id           TEXT NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    PRIMARY KEY (name, version)
) STRICT, WITHOUT ROWID;
CREATE INDEX model_versions_by_run ON model_versions(run_id) WHERE run_id IS NOT NULL;

CREATE TABLE model_version_tags (
    name    TEXT NOT NULL,
    version INTEGER NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (name, version, key),
    FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE TABLE model_aliases (
    name         TEXT NOT NULL,
    alias        TEXT NOT NULL,
    version      INTEGER NOT NULL,
    set_by       TEXT NOT NULL,
    set_at       INTEGER NOT NULL,
    promotion_id INTEGER,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
) STRICT, WITHOUT ROWID;

-- Append-only: one row per move (version NULL when the alias was removed).
CREATE TABLE alias_history (
    move_id          INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    alias            TEXT NOT NULL,
    version          INTEGER,
    previous_version INTEGER,
    moved_by         TEXT NOT NULL,
    moved_at         INTEGER NOT NULL,
    promotion_id     INTEGER,
    note             TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX alias_history_lookup ON alias_history(name, alias, moved_at);

CREATE TRIGGER alias_history_no_update BEFORE UPDATE ON alias_history
BEGIN
    SELECT RAISE(ABORT, 'alias_history is append-only');
END;
CREATE TRIGGER alias_history_no_delete BEFORE DELETE ON alias_history
BEGIN
    SELECT RAISE(ABORT, 'alias_history is append-only');
END;
