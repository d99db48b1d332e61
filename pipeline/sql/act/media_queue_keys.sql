-- What the stored deletion queue holds now, so a run can audit what joined and what left it.
SELECT rating_key, title FROM media_queue ORDER BY rating_key
