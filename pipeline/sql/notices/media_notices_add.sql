-- What a leaving-soon e-mail lists (notice_rows), recorded before it is sent; a rerun of the same day adds nothing.
INSERT INTO media_notices (user_id, rating_key, message_key, email, listed_at, leaving_at)
SELECT user_id, rating_key, message_key, email, listed_at, leaving_at FROM notice_rows
ON CONFLICT DO NOTHING
