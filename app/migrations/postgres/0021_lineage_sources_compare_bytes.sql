-- Lineage rows compare the (event time, dedup key) they came from as text, byte by byte.
--
-- Facets, schemas and versions are replaced only by an event that sorts later by its
-- `*_from` text: its event time, a \x01 separator, its dedup key. SQLite compares text
-- byte by byte, and so does the ingest's gathering of a batch; PostgreSQL compares by the
-- database's collation, which for a cluster made with a language's locale (en_US.UTF-8)
-- skips punctuation and control characters at first, and could let an earlier event's
-- facets win a tie of event times. The "C" collation compares bytes whatever the cluster's
-- locale.
ALTER TABLE lineage_datasets
    ALTER COLUMN facets_from TYPE TEXT COLLATE "C",
    ALTER COLUMN fields_from TYPE TEXT COLLATE "C";
ALTER TABLE lineage_dataset_versions ALTER COLUMN facets_from TYPE TEXT COLLATE "C";
ALTER TABLE lineage_jobs ALTER COLUMN facets_from TYPE TEXT COLLATE "C";
