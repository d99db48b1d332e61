-- How each run read Tautulli's history (issue 16): 'dates' walks date windows, each a scan of Tautulli's whole
-- history table; 'references' asks for reference ids, which Tautulli finds through an index. tautulli_rows is
-- the history's size (recordsTotal) at the run's first history request: the next run compares it with its own
-- to know how many plays arrived in between. history_from is the date (server time) a run by dates began at.
ALTER TABLE ingest_runs ADD COLUMN tautulli_rows BIGINT;
ALTER TABLE ingest_runs ADD COLUMN history_route VARCHAR;
ALTER TABLE ingest_runs ADD COLUMN history_from DATE;
