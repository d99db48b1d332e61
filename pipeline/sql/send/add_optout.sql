-- Opt an address out of Marquee's mail; a repeat keeps the first date and returns no row.
INSERT INTO email_optouts (email, opted_out_at, source)
VALUES ($email, $now, $source)
ON CONFLICT (email) DO NOTHING
RETURNING email
