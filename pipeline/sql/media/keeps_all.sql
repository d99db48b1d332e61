-- `invoke keep`: items never to delete (a show's key keeps its episodes).
SELECT rating_key, kept_at FROM media_keeps ORDER BY rating_key
