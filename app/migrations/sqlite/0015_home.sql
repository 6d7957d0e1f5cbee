-- Each verification of the audit chain (the Audit page's "Verify chain" and `server verify-audit`),
-- so auditors see on their home page when the trail was last checked, by whom, and the outcome.
CREATE TABLE audit_verifications (
    verification_id INTEGER PRIMARY KEY,
    verified_at     TEXT NOT NULL,
    verified_by     TEXT NOT NULL,
    ok              INTEGER NOT NULL CHECK (ok IN (0, 1)),
    entries         INTEGER NOT NULL,
    checkpoints     INTEGER NOT NULL,
    message         TEXT NOT NULL
) STRICT;

-- A data scientist's home lists their own latest runs.
CREATE INDEX runs_by_user ON runs(user_id, start_time DESC);
