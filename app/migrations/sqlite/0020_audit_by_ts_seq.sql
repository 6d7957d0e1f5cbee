-- A time bound of the audit page is one index seek.
--
-- PostgreSQL's 0020 makes its `ts` index hold `seq`, so the bound of a time range, `ORDER BY
-- ts, seq LIMIT 1`, is its first entry. SQLite's index on `ts` already holds `seq`: it is the
-- table's rowid, which every index entry ends with. Nothing to change here; the version keeps
-- both databases' migrations numbered alike.
SELECT 1;
