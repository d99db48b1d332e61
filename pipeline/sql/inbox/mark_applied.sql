-- Every action taken in and not refused has had its effect.
UPDATE reader_actions SET outcome = 'applied' WHERE outcome IS NULL
