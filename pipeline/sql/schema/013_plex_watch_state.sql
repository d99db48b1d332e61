-- Each assignee's own watch state in Plex (issue #13): what PMS answered with their token for the movies and
-- episodes assigned to them, and who could not be read. Replaced whole on every ingest; tokens are never stored.

-- One row per (assignee, assigned movie or episode) that PMS listed for them; view_count 0 is "not watched".
CREATE TABLE plex_watch_state (
    user_id        BIGINT NOT NULL,
    rating_key     BIGINT NOT NULL,
    view_count     INTEGER NOT NULL,
    view_offset_ms BIGINT,                 -- how far an unfinished play got; NULL when none
    last_viewed_at TIMESTAMPTZ,            -- when PMS last counted a view
    read_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, rating_key)
);

-- Assignees whose state could not be read this ingest (no share on plex.tv, plex.tv or PMS refusing): their
-- Plex state counts as not watched, and the queue and enforce say so.
CREATE TABLE plex_watch_unread (
    user_id BIGINT PRIMARY KEY,
    reason  VARCHAR NOT NULL,              -- one line, no token
    read_at TIMESTAMPTZ NOT NULL
);
