-- Every re-hash of a version's stored files against its manifest: when a promotion is
-- requested or reviewed, and by `server verify-artifacts`. The `artifact` check reads the latest.
CREATE TABLE artifact_verifications (
    verification_id INTEGER PRIMARY KEY,
    prefix          TEXT NOT NULL,
    digest          TEXT NOT NULL,
    verified_at     INTEGER NOT NULL,
    ok              INTEGER NOT NULL CHECK (ok IN (0, 1)),
    detail          TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX artifact_verifications_latest ON artifact_verifications(prefix, digest, verified_at DESC);
