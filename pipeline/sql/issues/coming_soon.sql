-- What Sonarr and Radarr expect in [$from, $until), as a reader would list it, soonest first: a movie as itself;
-- episodes as one row per show and season with their range ("E1–E3"), like recently_added. Days are the
-- server's ($tz). sections: the Plex libraries that would hold the title: the one whose folder (plex_sections
-- .locations) holds the series' or movie's folder, the deepest if several; when none does (Sonarr/Radarr see
-- other paths, or Plex's folders are unknown), every library of the title's type.
WITH cal AS (
    SELECT * FROM arr_calendar WHERE air_at >= $from AND air_at < $until
),
libs AS (
    SELECT section_id, type, rtrim(unnest(locations), '/') AS loc
    FROM plex_sections
    WHERE removed_at IS NULL
),
folders AS (
    SELECT DISTINCT kind, series_id, path FROM cal WHERE path IS NOT NULL
),
matched AS (
    SELECT f.kind, f.series_id, arg_max(l.section_id, length(l.loc)) AS section_id
    FROM folders f
    JOIN libs l ON l.type = CASE f.kind WHEN 'movie' THEN 'movie' ELSE 'show' END
               AND (f.path = l.loc OR starts_with(f.path, l.loc || '/'))
    GROUP BY f.kind, f.series_id
),
typed AS (
    SELECT type, list(section_id ORDER BY section_id) AS ids
    FROM plex_sections
    WHERE removed_at IS NULL
    GROUP BY type
),
islands AS (
    SELECT series_id, season, min(episode) AS lo, max(episode) AS hi
    FROM (SELECT series_id, season, episode,
                 episode - dense_rank() OVER (PARTITION BY series_id, season ORDER BY episode) AS island
          FROM cal
          WHERE kind = 'episode' AND episode IS NOT NULL)
    GROUP BY series_id, season, island
),
ranges AS (
    SELECT series_id, season,
           string_agg(CASE WHEN lo = hi THEN 'E' || lo ELSE 'E' || lo || '–E' || hi END, ', ' ORDER BY lo) AS episodes
    FROM islands
    GROUP BY series_id, season
),
grouped AS (
    SELECT CASE kind WHEN 'movie' THEN 'movie' ELSE 'season' END AS kind, kind AS arr_kind, series_id,
           any_value(tvdb_id) AS tvdb_id, any_value(tmdb_id) AS tmdb_id,
           arg_min(title, air_at) AS title, any_value(year) AS year, season, count(*) AS items,
           min(air_at) AS first_at, max(air_at) AS last_at
    FROM cal
    GROUP BY kind, series_id, season
)
SELECT g.kind, g.series_id, g.tvdb_id, g.tmdb_id, g.title, g.year, g.season, g.items, r.episodes,
       g.first_at, strftime(timezone($tz, g.first_at), '%Y-%m-%d') AS first_day,
       strftime(timezone($tz, g.last_at), '%Y-%m-%d') AS last_day,
       CASE WHEN m.section_id IS NOT NULL THEN [m.section_id]
            ELSE coalesce(t.ids, CAST([] AS BIGINT[])) END AS sections
FROM grouped g
LEFT JOIN ranges r ON g.arr_kind = 'episode' AND r.series_id = g.series_id AND r.season IS NOT DISTINCT FROM g.season
LEFT JOIN matched m ON m.kind = g.arr_kind AND m.series_id = g.series_id
LEFT JOIN typed t ON t.type = CASE g.kind WHEN 'movie' THEN 'movie' ELSE 'show' END
ORDER BY g.first_at, g.title, g.series_id, g.season
LIMIT $limit
