-- Settling a job's current version asks, per version, whether any run still names it and when
-- its latest run (and latest completed run) ended. Through lineage_runs_by_job those questions
-- scanned every run of the job, so ingest slowed as a job's history grew; with the state in
-- this index each is one seek, whatever the number of runs.
CREATE INDEX lineage_runs_by_version ON lineage_runs(job_id, job_version, state, last_event_time);
