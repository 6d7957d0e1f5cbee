-- Runs searches read less of the store.
--
-- PostgreSQL's 0017 makes the `(key, value)` indexes of params, run tags and latest metrics
-- hold the run id; SQLite's already do (these tables are WITHOUT ROWID, and their indexes hold
-- the primary key `(run_uuid, key)`).
--
-- An experiment's runs in the order of the runs page and of a search without a sort key
-- (newest first, then by run id), so ties at the same start time need no sort either.
DROP INDEX runs_by_experiment;
CREATE INDEX runs_by_experiment ON runs(experiment_id, lifecycle_stage, start_time DESC, run_uuid);
