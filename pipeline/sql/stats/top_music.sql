-- Most played artists, ranked by plays, by hours (get_home_stats top_music) and by distinct
-- listeners (popular_music) in one pass; a row is kept when any rank is within the limit.
-- As in get_home_stats, the artist is the track artist (original_title) when Plex has one, else
-- the album artist, so a compilation's tracks go to their own artists, not "Various Artists".
-- Differences, on purpose: Tautulli groups by the pair (original_title, grandparent_title), which
-- shows one artist twice when they also appear on a compilation; we group by the artist name shown.
-- In the period by started_at within [start, end). viewers leaves out Local (user_id 0).
SELECT title_kind, title_key, title, rating_key, thumb, plays, seconds, hours, viewers, last_played,
       rank_by_plays, rank_by_hours, rank_by_viewers
FROM top_titles($start, $end, 'artist', $limit)
ORDER BY rank_by_plays
