-- Seerr (Overseerr/Jellyseerr): its media entries and requests as last ingested, and the cascade step that
-- clears a deleted title's entry there.

-- Every media entry Seerr holds; rating_key is the Plex item its scan found (a movie or a show).
CREATE TABLE seerr_media (
    media_id   BIGINT PRIMARY KEY,
    media_type VARCHAR NOT NULL,           -- movie | tv
    tmdb_id    BIGINT,
    tvdb_id    BIGINT,
    rating_key BIGINT,
    status     INTEGER NOT NULL,           -- 1 unknown .. 5 available, 6 deleted
    listed_at  TIMESTAMPTZ NOT NULL
);

-- Every request, whatever its state; seasons empty for a movie (or a show requested whole).
CREATE TABLE seerr_requests (
    request_id         BIGINT PRIMARY KEY,
    status             INTEGER NOT NULL,   -- 1 pending approval, 2 approved, 3 declined, 4 failed, 5 completed
    media_id           BIGINT NOT NULL,
    media_type         VARCHAR NOT NULL,
    rating_key         BIGINT,             -- the Plex movie or show, once Seerr found it there
    media_status       INTEGER NOT NULL,
    seasons            INTEGER[] NOT NULL,
    seerr_user_id      BIGINT NOT NULL,
    requester_plex_id  BIGINT,
    requester_email    VARCHAR,
    requester_username VARCHAR,
    created_at         TIMESTAMPTZ,
    listed_at          TIMESTAMPTZ NOT NULL
);

ALTER TABLE media_deletions ADD COLUMN seerr VARCHAR;          -- NULL: not done yet | cleared | none (no entry, or not needed)
ALTER TABLE media_deletions ADD COLUMN seerr_media_id BIGINT;  -- the entry cleared there
