-- The issue is done: user_titles is the staging macro again. temp. names only the temp schema's macro.
DROP MACRO TABLE IF EXISTS temp.user_titles
