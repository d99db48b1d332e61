-- Forget the stored titles of requested media before they are written again.
DELETE FROM seerr_titles
