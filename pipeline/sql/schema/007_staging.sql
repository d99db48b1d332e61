-- Staging: the play history shaped once, so every stats query counts a play, a title and a viewer the same
-- way (docs/schema.md, "Staging"). A view where no period is needed; table macros where one is, because
-- parts are cut to the period by their own started_at *before* they are grouped, as get_home_stats does:
-- a session resumed across a boundary is a play in both periods and its hours are split between them.

-- One row per Tautulli history row (a part of a play), with its session and the title a reader sees.
-- A play is one session: resumed parts share a reference_id (0 or NULL: the row is its own session).
-- A title is a movie (full_title + year, so HD and 4K copies are one), a show (its grandparent_rating_key,
-- the title only when the key is gone) or an artist (the track's own artist, else the album artist).
CREATE VIEW play_parts AS
SELECT play_id,
       coalesce(nullif(reference_id, 0), play_id) AS session_id,
       user_id, media_type, started_at,
       coalesce(played_seconds, 0) AS seconds,
       coalesce(nullif(platform, ''), 'Unknown') AS platform,
       rating_key AS item_rating_key,
       CASE media_type WHEN 'movie' THEN 'movie' WHEN 'episode' THEN 'show' WHEN 'track' THEN 'artist' END
           AS title_kind,
       CASE media_type
           WHEN 'movie' THEN concat_ws('|', 'movie', coalesce(nullif(full_title, ''), title), year)
           WHEN 'episode' THEN 'show|' || coalesce(grandparent_rating_key::VARCHAR, 'title:' || grandparent_title)
           WHEN 'track' THEN 'artist|' || coalesce(nullif(original_title, ''), grandparent_title)
       END AS title_key,
       CASE media_type
           WHEN 'movie' THEN coalesce(nullif(full_title, ''), title)
           WHEN 'episode' THEN grandparent_title
           WHEN 'track' THEN coalesce(nullif(original_title, ''), grandparent_title)
       END AS title,
       CASE WHEN media_type = 'movie' THEN year END AS year,
       CASE media_type
           WHEN 'movie' THEN rating_key
           WHEN 'episode' THEN grandparent_rating_key
           -- the album artist's key names the artist only when the track has no artist of its own
           WHEN 'track' THEN CASE WHEN coalesce(original_title, '') = '' THEN grandparent_rating_key END
       END AS title_rating_key
FROM tautulli_history;  -- not the plays view: it has no original_title (a track's own artist)

-- One row per play (session) from its parts that started in [period_start, period_end): what it was, where
-- it started (its first part), all of its seconds. Local (user_id 0) is in: its plays count.
-- Tautulli resumes only the same user's same item, so user and media type are keys of a session; grouping
-- by them lets a caller's filter on them (user_id <> 0, title_kind = 'movie') cut the parts first.
CREATE MACRO play_sessions(period_start, period_end) AS TABLE
SELECT session_id, user_id, media_type, title_kind,
       arg_min(platform, started_at) AS platform,
       arg_min(item_rating_key, started_at) AS item_rating_key,
       arg_min(title_key, started_at) AS title_key,
       arg_min(title, started_at) AS title,
       arg_min(year, started_at) AS year,
       arg_min(title_rating_key, started_at) AS title_rating_key,
       min(started_at) AS first_played,
       max(started_at) AS last_played,
       sum(seconds) AS seconds
FROM play_parts
WHERE started_at >= period_start AND started_at < period_end
GROUP BY session_id, user_id, media_type, title_kind;

-- One row per (user, title) watched in the period: plays, seconds, and the title as last played.
-- Local (user_id 0) is nobody in particular, so it has no titles of its own.
CREATE MACRO user_titles(period_start, period_end) AS TABLE
SELECT user_id, title_kind, title_key,
       arg_max(title, last_played) AS title,
       arg_max(year, last_played) AS year,
       arg_max(title_rating_key, last_played) AS rating_key,
       count(*) AS plays,
       sum(seconds)::BIGINT AS seconds,
       max(last_played) AS last_played
FROM play_sessions(period_start, period_end)
WHERE title_kind IS NOT NULL AND user_id <> 0
GROUP BY user_id, title_kind, title_key;

-- The titles of one kind (movie | show | artist) watched in the period, ranked three ways: by plays and by
-- hours (get_home_stats top_*), by distinct viewers (popular_*); only rows with a rank within top_n.
-- Ties go to the most recently played, then the title; Local's plays count, Local is no viewer.
-- rating_key is the one of the most recent play that has one; items counts distinct items (episodes).
CREATE MACRO top_titles(period_start, period_end, wanted_kind, top_n) AS TABLE
WITH titles AS (
    SELECT title_kind, title_key,
           arg_max(title, last_played) AS title,
           arg_max(year, last_played) AS year,
           arg_max(title_rating_key, last_played) AS rating_key,
           count(*) AS plays,
           count(DISTINCT item_rating_key) AS items,
           sum(seconds)::BIGINT AS seconds,
           count(DISTINCT user_id) FILTER (WHERE user_id <> 0) AS viewers,
           max(last_played) AS last_played
    FROM play_sessions(period_start, period_end)
    WHERE title_kind = wanted_kind
    GROUP BY title_kind, title_key
),
ranked AS (
    SELECT *,
           row_number() OVER (ORDER BY plays DESC, last_played DESC, title, year, title_key) AS rank_by_plays,
           row_number() OVER (ORDER BY seconds DESC, last_played DESC, title, year, title_key) AS rank_by_hours,
           row_number() OVER (ORDER BY viewers DESC, plays DESC, last_played DESC, title, year, title_key)
               AS rank_by_viewers
    FROM titles
)
SELECT r.*, round(r.seconds / 3600.0, 1) AS hours, m.thumb, m.year AS media_year
FROM ranked r
LEFT JOIN media m ON m.rating_key = r.rating_key
WHERE least(r.rank_by_plays, r.rank_by_hours, r.rank_by_viewers) <= top_n;

-- Everyone but Local with a play in [period_start, period_end), named as the users view names them, else
-- as their latest play in the window was logged: a user deleted from Tautulli and Plex keeps a name.
CREATE MACRO viewer_names(period_start, period_end) AS TABLE
WITH logged AS (
    SELECT user_id,
           arg_max(username, started_at) AS username,
           arg_max(coalesce(nullif(trim(friendly_name), ''), username), started_at) AS friendly_name,
           max(started_at) AS last_played
    FROM tautulli_history  -- the public plays view has no names
    WHERE user_id <> 0 AND started_at >= period_start AND started_at < period_end
    GROUP BY user_id
)
SELECT l.user_id,
       coalesce(u.username, l.username) AS username,
       coalesce(u.friendly_name, l.friendly_name) AS friendly_name,
       coalesce(u.is_owner, false) AS is_owner,
       coalesce(u.has_access, false) AS has_access,
       l.last_played
FROM logged l
LEFT JOIN users u USING (user_id);
