-- Outcomes a stopped run journaled but had not yet written here. Each applies only to the claim it
-- answers (still 'sending', same attempt number), so an old line can never overwrite a newer claim.
UPDATE deliveries SET state = j.state, finished_at = j.finished_at, error = j.error,
    provider_message_id = coalesce(j.provider_message_id, deliveries.provider_message_id)
FROM (SELECT unnest($keys::VARCHAR[]) AS message_key, unnest($emails::VARCHAR[]) AS email,
             unnest($claims::INTEGER[]) AS attempts, unnest($states::VARCHAR[]) AS state,
             unnest($provider_ids::VARCHAR[]) AS provider_message_id, unnest($errors::VARCHAR[]) AS error,
             unnest($finished::TIMESTAMPTZ[]) AS finished_at) AS j
WHERE deliveries.message_key = j.message_key AND deliveries.email = j.email
  AND deliveries.state = 'sending' AND deliveries.attempts = j.attempts
RETURNING deliveries.message_key, deliveries.email, deliveries.state
