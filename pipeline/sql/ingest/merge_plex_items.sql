-- Upsert the items of the sections listed this run from plex_item_rows; first_seen_at is kept,
-- and an item that reappears loses removed_at.
INSERT INTO plex_items (rating_key, section_id, type, title, parent_rating_key, grandparent_rating_key,
                        parent_title, grandparent_title, "index", parent_index, year, added_at, updated_at,
                        duration_ms, size_bytes, guid, thumb, labels, collections, genres, first_seen_at,
                        last_listed_at, removed_at)
SELECT rating_key, section_id, type, title, parent_rating_key, grandparent_rating_key,
       parent_title, grandparent_title, "index", parent_index, year, added_at, updated_at,
       duration_ms, size_bytes, guid, thumb, labels, collections, genres, $now, $now, NULL
FROM plex_item_rows
ON CONFLICT (rating_key) DO UPDATE SET
    section_id = excluded.section_id,
    type = excluded.type,
    title = excluded.title,
    parent_rating_key = excluded.parent_rating_key,
    grandparent_rating_key = excluded.grandparent_rating_key,
    parent_title = excluded.parent_title,
    grandparent_title = excluded.grandparent_title,
    "index" = excluded."index",
    parent_index = excluded.parent_index,
    year = excluded.year,
    added_at = excluded.added_at,
    updated_at = excluded.updated_at,
    duration_ms = excluded.duration_ms,
    size_bytes = excluded.size_bytes,
    guid = excluded.guid,
    thumb = excluded.thumb,
    labels = excluded.labels,
    collections = excluded.collections,
    genres = excluded.genres,
    last_listed_at = excluded.last_listed_at,
    removed_at = NULL
