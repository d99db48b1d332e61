-- Most watched movies, ranked three ways in one pass: by plays and by hours (get_home_stats
-- top_movies with stats_type plays / duration) and by distinct viewers (popular_movies).
-- A row is kept when any of its ranks is within the limit; each row carries all three ranks.
-- As in get_home_stats: resumed parts (same reference_id) are one play; a movie is its
-- full_title + year, so one film in two libraries (HD and 4K) is one row; ties go to the most
-- recently played. popular ranks by viewers, then plays, then recency, as popular_movies does.
-- Differences, on purpose: in the period by started_at within [start, end) (Tautulli: stopped in
-- the last N days); viewers leaves out Local (user_id 0), whose plays still count; the title then
-- the year break any tie left so the order is stable.
SELECT title_kind, title_key, title, year, rating_key, thumb, plays, seconds, hours, viewers, last_played,
       rank_by_plays, rank_by_hours, rank_by_viewers
FROM top_titles($start, $end, 'movie', $limit)
ORDER BY rank_by_plays
