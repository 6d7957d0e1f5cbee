-- Fairness reports: what was analysed (model version or run, dataset, the file's SHA-256 and
-- size, the column mapping and settings) and the report itself. The file is never stored.
CREATE TABLE fairness_reports (
    report_id     INTEGER PRIMARY KEY,
    model_version TEXT,
    run_id        TEXT,
    dataset       TEXT NOT NULL,
    file_sha256   TEXT NOT NULL,
    file_bytes    INTEGER NOT NULL,
    rows          INTEGER NOT NULL,
    mapping       TEXT NOT NULL,
    report        TEXT NOT NULL,
    verdict       TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
    sentence      TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    CHECK (model_version IS NOT NULL OR run_id IS NOT NULL)
) STRICT;
CREATE INDEX fairness_reports_by_model ON fairness_reports(model_version, created_at DESC);
CREATE INDEX fairness_reports_by_time ON fairness_reports(created_at DESC);
