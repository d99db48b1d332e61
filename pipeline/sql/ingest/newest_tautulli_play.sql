-- Where the next incremental get_history starts (minus the overlap).
SELECT max(started_at) FROM tautulli_history
