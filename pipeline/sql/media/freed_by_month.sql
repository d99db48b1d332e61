-- Space Marquee freed, per month of the Plex delete in the server's time zone ($tz, an IANA name).
SELECT strftime(timezone($tz, deleted_at), '%Y-%m') AS month,
       count(*) AS items,
       coalesce(sum(size_bytes), 0) AS bytes
FROM media_deletions
WHERE plex_deleted AND deleted_at IS NOT NULL
GROUP BY month
ORDER BY month
