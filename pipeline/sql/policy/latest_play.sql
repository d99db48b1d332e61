-- The newest play on the whole server: a server-wide silence means Tautulli was probably down.
SELECT max(started_at) FROM plays
