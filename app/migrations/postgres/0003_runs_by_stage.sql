-- Runs of an experiment by lifecycle stage and start time. Every runs query filters on the
-- stage; with it in the index, counting an experiment's runs and paging the runs table
-- (newest first, or deep offsets) read the index alone instead of looking up each run.
-- At 10,000 runs this took the experiment list from 3.3 ms to 0.2 ms.
DROP INDEX runs_by_experiment;
CREATE INDEX runs_by_experiment ON runs(experiment_id, lifecycle_stage, start_time DESC);
