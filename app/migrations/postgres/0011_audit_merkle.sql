-- The audit trail's RFC 6962 Merkle tree. Perfect subtrees of 16 leaves and up are stored
-- (level 4 and above; smaller ones are hashed from audit_log on demand), derived from
-- audit_log and extended as it grows. Checkpoints are signed tree heads.
CREATE TABLE audit_merkle (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE audit_checkpoints (
    tree_size BIGINT PRIMARY KEY,
    root_hash TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);
