-- Periodic jobs (promotion expiry, sign-in reports, checkpoints, the session sweep) run once
-- across every server of one database: a job runs where its lease is held, and a lease is taken
-- over only once its holder has let it lapse.
CREATE TABLE job_leases (
    job      TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
