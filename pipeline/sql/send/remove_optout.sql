-- Opt an address back in.
DELETE FROM email_optouts WHERE email = $email
RETURNING email
