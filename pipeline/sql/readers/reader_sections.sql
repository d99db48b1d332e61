-- Which libraries each Plex user can open, from the plex.tv shares: every one for the owner and an
-- "all libraries" share, else the shared sections; a user with no share Marquee read has everything NULL.
SELECT user_id,
       is_owner OR coalesce(all_libraries, false) AS everything,
       section_ids
FROM plex_users
ORDER BY user_id
