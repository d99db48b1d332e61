-- Media retention: who each title is for, what the admin kept, what is queued and what was deleted.

ALTER TABLE plex_items ADD COLUMN collections VARCHAR[];

-- A user who must finish a movie, a show (all its current and future episodes) or one episode.
CREATE TABLE media_assignments (
    target_rating_key BIGINT NOT NULL,     -- movie, show or episode
    user_id           BIGINT NOT NULL,
    source            VARCHAR NOT NULL,    -- cli | file (retention.toml) | label (marquee:<user>)
    assigned_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (target_rating_key, user_id, source)
);

-- `invoke keep`: never delete this item (a show's key keeps every episode).
CREATE TABLE media_keeps (
    rating_key BIGINT PRIMARY KEY,
    title      VARCHAR,
    kept_at    TIMESTAMPTZ NOT NULL,
    note       VARCHAR
);

-- The deletion queue as last computed; first_queued_at survives recomputation so the notice period holds.
CREATE TABLE media_queue (
    rating_key      BIGINT PRIMARY KEY,
    first_queued_at TIMESTAMPTZ NOT NULL,
    scheduled_at    TIMESTAMPTZ NOT NULL,
    source          VARCHAR NOT NULL,      -- assigned | rule
    rule            VARCHAR,
    reason          VARCHAR NOT NULL,
    title           VARCHAR,
    show_title      VARCHAR,
    media_type      VARCHAR,               -- movie | episode
    size_bytes      BIGINT,
    user_ids        BIGINT[],              -- assigned users, for their leaving-soon notice
    updated_at      TIMESTAMPTZ NOT NULL
);

-- One row per item Marquee set out to delete; each step is recorded as it succeeds so a retry resumes.
CREATE TABLE media_deletions (
    rating_key      BIGINT PRIMARY KEY,
    title           VARCHAR,
    media_type      VARCHAR,
    size_bytes      BIGINT,
    state           VARCHAR NOT NULL,      -- started | partial | done | failed | relisted
    agent_ids       JSON,                  -- tvdb/tmdb/imdb ids and season/episode, read from Plex before deleting
    arr             VARCHAR,               -- sonarr | radarr | NULL when neither knows it
    arr_id          BIGINT,                -- episode id or movie id there
    arr_unmonitored BOOLEAN NOT NULL DEFAULT false,
    arr_file_deleted BOOLEAN NOT NULL DEFAULT false,
    arr_excluded    BOOLEAN NOT NULL DEFAULT false,
    plex_deleted    BOOLEAN NOT NULL DEFAULT false,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      VARCHAR,               -- e.g. "Plex deleted, Sonarr unreachable"
    started_at      TIMESTAMPTZ NOT NULL,
    deleted_at      TIMESTAMPTZ,           -- when Plex confirmed the delete
    updated_at      TIMESTAMPTZ NOT NULL
);
