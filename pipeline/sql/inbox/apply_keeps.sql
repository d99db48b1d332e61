-- "Keep this title": never delete it, as `invoke keep` would; the note says who asked and when.
INSERT INTO media_keeps (rating_key, title, kept_at, note)
SELECT CAST(r.target AS BIGINT), any_value(i.title), min(r.acted_at),
       'kept by ' || any_value(coalesce(u.friendly_name, u.username, 'user ' || r.user_id)) || ' from the e-mail'
FROM reader_actions r
LEFT JOIN plex_items i ON CAST(i.rating_key AS VARCHAR) = r.target
LEFT JOIN users u ON u.user_id = r.user_id
WHERE r.outcome IS NULL AND r.action = 'keep'
GROUP BY r.target
ON CONFLICT (rating_key) DO NOTHING
