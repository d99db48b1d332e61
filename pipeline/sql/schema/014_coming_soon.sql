-- Coming soon: Sonarr's and Radarr's calendars as last ingested, the Plex libraries' folders (to tell which
-- library an upcoming title would land in), and the stop-re-download step of the deletion cascade.

-- What Sonarr and Radarr expect in the next newsletter.coming_soon_days, replaced whole on every ingest.
CREATE TABLE arr_calendar (
    item_key   VARCHAR PRIMARY KEY,     -- 'sonarr:episode:<id>' | 'radarr:movie:<id>'
    kind       VARCHAR NOT NULL,        -- episode | movie
    title      VARCHAR NOT NULL,        -- the show's or the movie's title
    year       INTEGER,
    series_id  BIGINT,                  -- Sonarr's series id (episodes), Radarr's movie id (movies)
    tvdb_id    BIGINT,                  -- the show's (episodes)
    tmdb_id    BIGINT,                  -- the movie's
    season     INTEGER,
    episode    INTEGER,
    episode_title VARCHAR,
    air_at     TIMESTAMPTZ NOT NULL,    -- episodes: airDateUtc; movies: the digital (else physical) release
    path       VARCHAR,                 -- the series' or movie's folder in Sonarr/Radarr
    listed_at  TIMESTAMPTZ NOT NULL
);

-- The folders of each library (<Location path=...>), to match an *arr folder to the library that would hold it.
ALTER TABLE plex_sections ADD COLUMN locations VARCHAR[];

-- A whole series deleted: Sonarr unmonitors it and excludes it from import lists (retention.series_exclusion).
ALTER TABLE media_deletions ADD COLUMN series_excluded BOOLEAN NOT NULL DEFAULT false;

-- The titles of open Seerr requests Plex does not have yet (Seerr's GET movie/{tmdbId} and tv/{tmdbId}), for a
-- reader's "Your requests"; replaced whole on every Seerr ingest.
CREATE TABLE seerr_titles (
    media_id  BIGINT PRIMARY KEY,
    title     VARCHAR NOT NULL,
    year      INTEGER,
    listed_at TIMESTAMPTZ NOT NULL
);
