-- plays.section_id: get_history rows carry none (Tautulli only filters by it), so each play takes its
-- library from the Plex inventory: the item's own, else its season's or album's, else its show's or
-- artist's (an episode deleted before Marquee listed it may still have its show). plex_items keeps removed
-- items, so a play keeps its library after the item is gone. Returns how many plays got one.
UPDATE tautulli_history AS h SET section_id = f.section_id
FROM (
    SELECT h.play_id, coalesce(i.section_id, p.section_id, g.section_id) AS section_id
    FROM tautulli_history h
    LEFT JOIN plex_items i ON i.rating_key = h.rating_key
    LEFT JOIN plex_items p ON p.rating_key = h.parent_rating_key
    LEFT JOIN plex_items g ON g.rating_key = h.grandparent_rating_key
    WHERE h.section_id IS NULL
) AS f
WHERE h.play_id = f.play_id AND f.section_id IS NOT NULL
