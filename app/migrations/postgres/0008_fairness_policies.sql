-- Fairness policy per model ('*' for every model without its own): the rules (metric and the
-- ratio band to the reference group) and the smallest group a verdict means much for.
CREATE TABLE fairness_policies (
    model          TEXT PRIMARY KEY,
    rules          TEXT NOT NULL,
    min_group_rows BIGINT NOT NULL,
    updated_by     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
