-- Plays of one page the store already has (the overlap window): take Tautulli's values where any changed.
-- ingested_at then moves, so it says when a row last changed; unchanged rows stay byte-identical.
UPDATE tautulli_history AS h SET
    reference_id = p.reference_id,
    user_id = p.user_id,
    username = p.username,
    friendly_name = p.friendly_name,
    rating_key = p.rating_key,
    parent_rating_key = p.parent_rating_key,
    grandparent_rating_key = p.grandparent_rating_key,
    media_type = p.media_type,
    -- get_history rows carry no section_id: keep one that a later step filled in
    section_id = coalesce(p.section_id, h.section_id),
    title = p.title,
    parent_title = p.parent_title,
    grandparent_title = p.grandparent_title,
    full_title = p.full_title,
    original_title = p.original_title,
    year = p.year,
    media_index = p.media_index,
    parent_media_index = p.parent_media_index,
    started_at = p.started_at,
    stopped_at = p.stopped_at,
    played_seconds = p.played_seconds,
    paused_seconds = p.paused_seconds,
    percent_complete = p.percent_complete,
    watched_status = p.watched_status,
    platform = p.platform,
    product = p.product,
    player = p.player,
    location = p.location,
    transcode_decision = p.transcode_decision,
    live = p.live,
    guid = p.guid,
    thumb = p.thumb,
    ingested_at = p.ingested_at
FROM tautulli_history_page AS p
WHERE h.play_id = p.play_id
  AND (h.reference_id, h.user_id, h.username, h.friendly_name, h.rating_key, h.parent_rating_key,
       h.grandparent_rating_key, h.media_type, h.section_id, h.title, h.parent_title, h.grandparent_title,
       h.full_title, h.original_title, h.year, h.media_index, h.parent_media_index, h.started_at, h.stopped_at,
       h.played_seconds, h.paused_seconds, h.percent_complete, h.watched_status, h.platform, h.product,
       h.player, h.location, h.transcode_decision, h.live, h.guid, h.thumb)
      IS DISTINCT FROM
      (p.reference_id, p.user_id, p.username, p.friendly_name, p.rating_key, p.parent_rating_key,
       p.grandparent_rating_key, p.media_type, coalesce(p.section_id, h.section_id), p.title, p.parent_title,
       p.grandparent_title, p.full_title, p.original_title, p.year, p.media_index, p.parent_media_index,
       p.started_at, p.stopped_at, p.played_seconds, p.paused_seconds, p.percent_complete, p.watched_status,
       p.platform, p.product, p.player, p.location, p.transcode_decision, p.live, p.guid, p.thumb)
