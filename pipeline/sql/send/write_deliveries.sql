-- Write one batch of ledger rows: claims ('sending', one more attempt) for messages about to go out,
-- outcomes of calls that came back, and decisions made without a call ('suppressed').
-- One statement is one atomic commit, and each DuckDB statement costs milliseconds, so the run loop
-- writes everything a turn produced at once instead of a statement per row.
INSERT INTO deliveries (message_key, email, user_id, kind, state, attempts, first_attempt_at,
                        last_attempt_at, finished_at, backend, provider_message_id, error, size_bytes)
SELECT message_key, email, user_id, kind, state,
       CASE WHEN state = 'sending' THEN 1 ELSE 0 END,
       CASE WHEN state = 'sending' THEN $now END,
       CASE WHEN state = 'sending' THEN $now END,
       CASE WHEN state <> 'sending' THEN $now END,
       $backend, provider_message_id, error, size_bytes
FROM (SELECT unnest($keys::VARCHAR[]) AS message_key, unnest($emails::VARCHAR[]) AS email,
             unnest($user_ids::BIGINT[]) AS user_id, unnest($kinds::VARCHAR[]) AS kind,
             unnest($states::VARCHAR[]) AS state, unnest($provider_ids::VARCHAR[]) AS provider_message_id,
             unnest($errors::VARCHAR[]) AS error, unnest($sizes::BIGINT[]) AS size_bytes) AS batch
ON CONFLICT (message_key, email) DO UPDATE SET
    state = excluded.state,
    attempts = deliveries.attempts + excluded.attempts,
    first_attempt_at = coalesce(deliveries.first_attempt_at, excluded.first_attempt_at),
    last_attempt_at = coalesce(excluded.last_attempt_at, deliveries.last_attempt_at),
    finished_at = excluded.finished_at,
    user_id = excluded.user_id,
    kind = excluded.kind,
    backend = excluded.backend,
    size_bytes = excluded.size_bytes,
    provider_message_id = coalesce(excluded.provider_message_id, deliveries.provider_message_id),
    error = excluded.error
