-- The one server the token belongs to; a rename or upgrade overwrites in place.
INSERT INTO plex_server (machine_identifier, name, version, allow_media_deletion, last_listed_at)
VALUES ($machine_identifier, $name, $version, $allow_media_deletion, $now)
ON CONFLICT (machine_identifier) DO UPDATE SET
    name = excluded.name,
    version = excluded.version,
    allow_media_deletion = excluded.allow_media_deletion,
    last_listed_at = excluded.last_listed_at
