-- Each queued item's stored date and reason before this run recomputes them: a notice wait is audited when it
-- starts or its date moves once every reader was told, not on every run.
SELECT rating_key, scheduled_at, reason FROM media_queue ORDER BY rating_key
