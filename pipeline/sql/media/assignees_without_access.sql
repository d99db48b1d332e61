-- Assigned users who no longer have access: what is assigned to them never leaves until they are unassigned.
SELECT a.user_id, coalesce(nullif(trim(u.friendly_name), ''), u.username, 'user ' || a.user_id) AS name,
       count(DISTINCT a.target_rating_key) AS targets
FROM media_assignments a
LEFT JOIN users u USING (user_id)
WHERE NOT coalesce(u.has_access, false)
GROUP BY a.user_id, name
ORDER BY name, a.user_id
