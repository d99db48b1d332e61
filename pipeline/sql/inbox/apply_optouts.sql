-- Each reader's newest subscription answer wins: an unsubscribe opts the address out (source 'link').
INSERT INTO email_optouts (email, opted_out_at, source)
SELECT lower(target), acted_at, 'link'
FROM reader_actions
WHERE outcome IS NULL AND action IN ('unsubscribe', 'resubscribe')
QUALIFY row_number() OVER (PARTITION BY lower(target) ORDER BY acted_at DESC, action_id DESC) = 1 AND action = 'unsubscribe'
ON CONFLICT (email) DO NOTHING
