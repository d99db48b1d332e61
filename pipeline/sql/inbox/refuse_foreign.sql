-- An action on something that is not the reader's own is refused: an address that is not theirs, a title never
-- queued or listed for them, a warning they do not have. The web app signs each link for one reader; this
-- checks the target against the store as it is now.
UPDATE reader_actions r SET outcome = 'refused: not this reader''s'
WHERE r.outcome IS NULL AND NOT (
    (r.action IN ('unsubscribe', 'resubscribe')
        AND EXISTS (SELECT 1 FROM users u WHERE u.user_id = r.user_id AND lower(trim(u.email)) = lower(r.target)))
    OR (r.action IN ('keep', 'done') AND (
        EXISTS (SELECT 1 FROM media_notices n WHERE n.user_id = r.user_id AND CAST(n.rating_key AS VARCHAR) = r.target)
        OR EXISTS (SELECT 1 FROM media_queue q WHERE CAST(q.rating_key AS VARCHAR) = r.target
                   AND list_contains(q.user_ids, r.user_id))))
    OR (r.action = 'still_here'
        AND EXISTS (SELECT 1 FROM member_states s WHERE s.user_id = r.user_id AND s.warned_at IS NOT NULL)))
