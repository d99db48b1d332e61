-- The seasons Plex lists for one show, for `invoke assign "Show" --season N` and `season = N` in retention.toml.
SELECT rating_key, type, title, "index" AS number, coalesce(parent_title, $show_title) AS show_title
FROM plex_items
WHERE parent_rating_key = $show AND type = 'season' AND removed_at IS NULL
ORDER BY "index", rating_key
