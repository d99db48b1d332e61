-- When a user's membership started, if later than their join date: Marquee removed them and the admin
-- re-shared (plex.tv can keep acceptedAt). Stored when the restart is first seen, so later runs keep it.
ALTER TABLE member_states ADD COLUMN member_since TIMESTAMPTZ;
