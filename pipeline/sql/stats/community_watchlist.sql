-- Titles that at least $min_viewers people watched in the period, and who (user_ids, most hours first).
-- Movies (full_title + year) and shows (grandparent_rating_key) only: sharing an artist is not a
-- shared watch. The Local pseudo-user (user_id 0) is nobody in particular, so it is left out.
-- Filtered to the period before grouping, and counted per title rather than per pair of users:
-- over all time, pairs were the one costly stat (docs performance.md).
SELECT title_kind, title_key,
       arg_max(title, last_played) AS title,
       arg_max(year, last_played) AS year,
       arg_max(rating_key, last_played) AS rating_key,
       count(*) AS viewers,
       list(user_id ORDER BY seconds DESC, user_id) AS user_ids,
       sum(plays)::BIGINT AS plays,
       sum(seconds)::BIGINT AS seconds,
       round(sum(seconds) / 3600.0, 1) AS hours,
       max(last_played) AS last_played
FROM user_titles($start, $end)
WHERE title_kind IN ('movie', 'show')
GROUP BY title_kind, title_key
HAVING count(*) >= $min_viewers
ORDER BY viewers DESC, plays DESC, last_played DESC, title, title_key
LIMIT $limit
