-- Upsert the libraries get_libraries_table listed (registered as tautulli_library_rows).
INSERT INTO tautulli_libraries (section_id, section_name, section_type, item_count, parent_count,
                                child_count, is_active, last_listed_at)
SELECT section_id, section_name, section_type, item_count, parent_count, child_count, is_active, $now
FROM tautulli_library_rows
ON CONFLICT (section_id) DO UPDATE SET
    section_name = excluded.section_name,
    section_type = excluded.section_type,
    item_count = excluded.item_count,
    parent_count = excluded.parent_count,
    child_count = excluded.child_count,
    is_active = excluded.is_active,
    last_listed_at = excluded.last_listed_at
