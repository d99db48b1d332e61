-- Every opted-out address.
SELECT email, opted_out_at, source
FROM email_optouts
ORDER BY email
