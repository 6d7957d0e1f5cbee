-- Runs searches read less of the store.
--
-- The `(key, value)` indexes that runs/search reads a filter or a sort key from also hold the
-- run id, so a filter such as `params.p3 = '7'` or `metrics.auc > 0.5` is answered from the
-- index alone (an index-only scan) instead of one table visit per run.
DROP INDEX params_by_key;
CREATE INDEX params_by_key ON params(key, value, run_uuid);
DROP INDEX run_tags_by_key;
CREATE INDEX run_tags_by_key ON run_tags(key, value, run_uuid);
DROP INDEX latest_metrics_by_key;
CREATE INDEX latest_metrics_by_key ON latest_metrics(key, value, run_uuid);

-- An experiment's runs in the order of the runs page and of a search without a sort key
-- (newest first, runs without a start time last, then by run id): PostgreSQL puts NULLs
-- first in a descending index unless told, so the page sorted all the experiment's runs.
DROP INDEX runs_by_experiment;
CREATE INDEX runs_by_experiment ON runs(experiment_id, lifecycle_stage, start_time DESC NULLS LAST, run_uuid);
