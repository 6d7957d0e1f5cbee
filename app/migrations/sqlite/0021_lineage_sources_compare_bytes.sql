-- Lineage rows compare the (event time, dedup key) they came from as text, byte by byte.
--
-- PostgreSQL's 0021 gives its `*_from` columns the "C" collation, so that they compare byte
-- by byte whatever the cluster's locale. SQLite compares text that way already (BINARY);
-- nothing to change here; the version keeps both databases' migrations numbered alike.
SELECT 1;
