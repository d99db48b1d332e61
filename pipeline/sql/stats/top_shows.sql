-- Most watched TV shows, ranked by plays, by hours (get_home_stats top_tv) and by distinct
-- viewers (popular_tv) in one pass; a row is kept when any rank is within the limit.
-- A show groups its episodes; resumed parts (same reference_id) are one play; ties go to the most
-- recently played, as in get_home_stats.
-- Differences, on purpose: a show is its grandparent_rating_key (Tautulli groups by
-- grandparent_title, which merges two different shows called "The Office"); the title is only the
-- fallback when the key is gone. In the period by started_at within [start, end). viewers leaves
-- out Local (user_id 0). The title breaks any tie left.
SELECT title_kind, title_key, title, media_year AS year, rating_key, thumb, plays, items AS episodes, seconds,
       hours, viewers, last_played, rank_by_plays, rank_by_hours, rank_by_viewers
FROM top_titles($start, $end, 'show', $limit)
ORDER BY rank_by_plays
