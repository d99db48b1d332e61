-- A resubscribe that is the reader's newest answer removes the opt-out.
DELETE FROM email_optouts o
WHERE o.email IN (
    SELECT lower(target) FROM reader_actions
    WHERE outcome IS NULL AND action IN ('unsubscribe', 'resubscribe')
    QUALIFY row_number() OVER (PARTITION BY lower(target) ORDER BY acted_at DESC, action_id DESC) = 1 AND action = 'resubscribe')
