-- Promotion policies (versioned TOML per scope), promotion requests, their reviews and
-- waivers. A request keeps the evidence bundle it was made on; each review keeps the digest of
-- the bundle the reviewer saw.
CREATE TABLE promotion_policies (
    policy_id  INTEGER PRIMARY KEY,
    scope      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    text       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (scope, version)
) STRICT;

CREATE TABLE promotion_requests (
    request_id       INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    version          INTEGER NOT NULL,
    alias            TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('promotion', 'rollback')),
    justification    TEXT NOT NULL,
    requested_by     TEXT NOT NULL,
    requested_at     TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn', 'expired')),
    closed_at        TEXT,
    closed_by        TEXT,
    previous_version INTEGER,
    evidence         TEXT NOT NULL,
    evidence_sha256  TEXT NOT NULL,
    FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
) STRICT;
CREATE INDEX promotion_requests_by_status ON promotion_requests(status, requested_at);
CREATE INDEX promotion_requests_by_version ON promotion_requests(name, version);
CREATE UNIQUE INDEX promotion_requests_one_pending
    ON promotion_requests(name, version, alias) WHERE status = 'pending';

CREATE TABLE promotion_reviews (
    review_id       INTEGER PRIMARY KEY,
    request_id      INTEGER NOT NULL REFERENCES promotion_requests(request_id),
    reviewer        TEXT NOT NULL,
    decision        TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment         TEXT NOT NULL,
    evidence_sha256 TEXT NOT NULL,
    reviewed_at     TEXT NOT NULL,
    UNIQUE (request_id, reviewer)
) STRICT;

CREATE TABLE promotion_waivers (
    request_id INTEGER NOT NULL REFERENCES promotion_requests(request_id),
    check_id   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    waived_by  TEXT NOT NULL,
    waived_at  TEXT NOT NULL,
    PRIMARY KEY (request_id, check_id)
) STRICT, WITHOUT ROWID;
