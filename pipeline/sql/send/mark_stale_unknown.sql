-- Rows still 'sending' belong to a run that died during the provider call: nobody knows whether
-- the mail left. Only called while holding the writer lock, so no live run owns them.
UPDATE deliveries SET state = 'unknown',
    error = 'the run stopped while sending; it may or may not have been delivered'
WHERE state = 'sending'
RETURNING message_key, email
