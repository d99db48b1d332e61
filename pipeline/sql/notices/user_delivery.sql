-- One notice's ledger row for one address: was it sent, and when (a warning's notice runs from then).
SELECT state, finished_at, error
FROM deliveries
WHERE message_key = $key AND email = $email
