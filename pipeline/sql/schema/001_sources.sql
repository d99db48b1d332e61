-- What Tautulli and Plex said, typed once at the ingest boundary.
-- Rows are never deleted: a user or item that disappears upstream gets removed_at.
-- IP addresses are never stored.

CREATE TABLE tautulli_history (
    play_id                BIGINT PRIMARY KEY,   -- Tautulli history row id
    reference_id           BIGINT,               -- first row of a resumed session
    user_id                BIGINT NOT NULL,
    username               VARCHAR,
    friendly_name          VARCHAR,
    rating_key             BIGINT,               -- NULL once the item is gone from Plex
    parent_rating_key      BIGINT,
    grandparent_rating_key BIGINT,
    media_type             VARCHAR,              -- movie | episode | track | live
    section_id             BIGINT,
    title                  VARCHAR,
    parent_title           VARCHAR,
    grandparent_title      VARCHAR,
    full_title             VARCHAR,
    original_title         VARCHAR,
    year                   INTEGER,
    media_index            INTEGER,
    parent_media_index     INTEGER,
    started_at             TIMESTAMPTZ NOT NULL,
    stopped_at             TIMESTAMPTZ,
    played_seconds         INTEGER,              -- stopped - started - paused
    paused_seconds         INTEGER,
    percent_complete       INTEGER,
    watched_status         DOUBLE,               -- 1 once Tautulli's watched threshold was reached
    platform               VARCHAR,
    product                VARCHAR,
    player                 VARCHAR,
    location               VARCHAR,              -- lan | wan
    transcode_decision     VARCHAR,
    live                   BOOLEAN,
    guid                   VARCHAR,
    thumb                  VARCHAR,
    ingested_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE tautulli_users (
    user_id         BIGINT PRIMARY KEY,
    username        VARCHAR,
    friendly_name   VARCHAR,
    email           VARCHAR,
    thumb           VARCHAR,
    is_active       BOOLEAN,
    is_admin        BOOLEAN,
    is_home_user    BOOLEAN,
    is_restricted   BOOLEAN,
    shared_libraries VARCHAR[],
    first_seen_at   TIMESTAMPTZ NOT NULL,    -- first run that listed the user
    last_listed_at  TIMESTAMPTZ NOT NULL,
    removed_at      TIMESTAMPTZ              -- gone from get_users; history is kept
);

CREATE TABLE tautulli_libraries (
    section_id      BIGINT PRIMARY KEY,
    section_name    VARCHAR,
    section_type    VARCHAR,
    item_count      BIGINT,
    parent_count    BIGINT,
    child_count     BIGINT,
    is_active       BOOLEAN,
    last_listed_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE plex_server (
    machine_identifier   VARCHAR PRIMARY KEY,
    name                 VARCHAR,
    version              VARCHAR,
    allow_media_deletion BOOLEAN,
    last_listed_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE plex_users (
    user_id         BIGINT PRIMARY KEY,      -- plex.tv account id, the same id Tautulli uses
    username        VARCHAR,
    title           VARCHAR,
    email           VARCHAR,
    is_owner        BOOLEAN NOT NULL,
    is_home         BOOLEAN NOT NULL,
    is_restricted   BOOLEAN NOT NULL,
    share_id        BIGINT,                  -- shared_servers id on this server
    invited_at      TIMESTAMPTZ,
    accepted_at     TIMESTAMPTZ,
    pending         BOOLEAN,
    all_libraries   BOOLEAN,
    section_ids     BIGINT[],                -- sections of this server shared with the user
    first_seen_at   TIMESTAMPTZ NOT NULL,
    last_listed_at  TIMESTAMPTZ NOT NULL,
    removed_at      TIMESTAMPTZ
);

CREATE TABLE plex_sections (
    section_id      BIGINT PRIMARY KEY,
    title           VARCHAR,
    type            VARCHAR,                 -- movie | show | artist | photo
    content_changed VARCHAR,                 -- what tells a later run the section changed
    item_count      BIGINT,
    last_listed_at  TIMESTAMPTZ NOT NULL,
    removed_at      TIMESTAMPTZ
);

CREATE TABLE plex_items (
    rating_key             BIGINT PRIMARY KEY,
    section_id             BIGINT NOT NULL,
    type                   VARCHAR NOT NULL, -- movie | show | season | episode | artist | album | track
    title                  VARCHAR,
    parent_rating_key      BIGINT,
    grandparent_rating_key BIGINT,
    parent_title           VARCHAR,
    grandparent_title      VARCHAR,
    "index"                INTEGER,
    parent_index           INTEGER,
    year                   INTEGER,
    added_at               TIMESTAMPTZ,
    updated_at             TIMESTAMPTZ,
    duration_ms            BIGINT,
    size_bytes             BIGINT,           -- sum of part sizes; NULL for shows, seasons, artists, albums
    guid                   VARCHAR,
    thumb                  VARCHAR,
    labels                 VARCHAR[],
    first_seen_at          TIMESTAMPTZ NOT NULL,
    last_listed_at         TIMESTAMPTZ NOT NULL,
    removed_at             TIMESTAMPTZ
);

CREATE TABLE ingest_runs (
    run_id          BIGINT PRIMARY KEY,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,        -- ok | failed
    plays_fetched   BIGINT,
    plays_new       BIGINT,
    users           BIGINT,
    items           BIGINT,
    plex_skipped    VARCHAR,                 -- why the inventory was skipped, if it was
    error           VARCHAR
);

CREATE TABLE ingest_state (
    key        VARCHAR PRIMARY KEY,
    value      VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL
);
