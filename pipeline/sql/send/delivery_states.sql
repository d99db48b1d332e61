-- Every recipient's ledger row for one message key.
SELECT email, state, attempts, provider_message_id, error
FROM deliveries
WHERE message_key = $key
