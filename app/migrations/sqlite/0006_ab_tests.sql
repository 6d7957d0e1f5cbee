-- A/B tests (named ab_* beside MLflow's experiments): definitions, daily sufficient statistics,
-- decisions and read-only share links.
CREATE TABLE ab_tests (
    test_id       INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    hypothesis    TEXT NOT NULL DEFAULT '',
    owner         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('draft', 'running', 'stopped', 'decided')),
    start_date    TEXT,
    end_date      TEXT,
    alpha         REAL NOT NULL,
    correction    TEXT NOT NULL CHECK (correction IN ('none', 'holm', 'benjamini_hochberg')),
    sequential    INTEGER NOT NULL DEFAULT 0,
    mde           REAL NOT NULL,
    min_units     REAL NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;

CREATE TABLE ab_variants (
    test_id INTEGER NOT NULL REFERENCES ab_tests(test_id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    weight        REAL NOT NULL,
    model_version TEXT,
    run_id        TEXT,
    PRIMARY KEY (test_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE ab_metrics (
    test_id INTEGER NOT NULL REFERENCES ab_tests(test_id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('binomial', 'continuous')),
    direction     TEXT NOT NULL CHECK (direction IN ('increase', 'decrease')),
    role          TEXT NOT NULL CHECK (role IN ('goal', 'guardrail')),
    tolerance     REAL,
    PRIMARY KEY (test_id, name)
) STRICT, WITHOUT ROWID;

-- One day's counts per metric and variant (cumulative uploads are stored as differences);
-- metric '' holds the units assigned to the variant that day. For binomial metrics `a` is
-- units and `b` conversions; for continuous ones `a` is n, `b` Σy and `c` Σy².
CREATE TABLE ab_results (
    test_id INTEGER NOT NULL REFERENCES ab_tests(test_id) ON DELETE CASCADE,
    metric        TEXT NOT NULL,
    variant       TEXT NOT NULL,
    day           TEXT NOT NULL,
    a             REAL NOT NULL,
    b             REAL NOT NULL DEFAULT 0,
    c             REAL NOT NULL DEFAULT 0,
    sum_x         REAL,
    sum_x2        REAL,
    sum_xy        REAL,
    PRIMARY KEY (test_id, metric, variant, day)
) STRICT, WITHOUT ROWID;

CREATE TABLE ab_decisions (
    decision_id   INTEGER PRIMARY KEY,
    test_id INTEGER NOT NULL REFERENCES ab_tests(test_id) ON DELETE CASCADE,
    decision      TEXT NOT NULL CHECK (decision IN ('ship', 'roll_back', 'extend')),
    comment       TEXT NOT NULL,
    verdict       TEXT NOT NULL,
    sentence      TEXT NOT NULL,
    analysis      TEXT NOT NULL,
    decided_by    TEXT NOT NULL,
    decided_at    TEXT NOT NULL
) STRICT;
CREATE INDEX ab_decisions_by_test ON ab_decisions(test_id, decided_at DESC);

CREATE TABLE ab_share_links (
    link_id       INTEGER PRIMARY KEY,
    test_id INTEGER NOT NULL REFERENCES ab_tests(test_id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT
) STRICT;
