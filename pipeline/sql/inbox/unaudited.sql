-- Actions the audit does not show yet, with the names the audit rows carry.
SELECT r.action_id, r.taken_at, r.acted_at, r.user_id, coalesce(u.friendly_name, u.username, 'user ' || r.user_id) AS name,
       r.action, r.target, r.outcome, coalesce(q.title, i.title) AS title
FROM reader_actions r
LEFT JOIN users u ON u.user_id = r.user_id
LEFT JOIN plex_items i ON CAST(i.rating_key AS VARCHAR) = r.target AND r.action IN ('keep', 'done')
LEFT JOIN media_queue q ON CAST(q.rating_key AS VARCHAR) = r.target AND r.action IN ('keep', 'done')
WHERE r.audited_run_id IS NULL
ORDER BY r.acted_at, r.action_id
