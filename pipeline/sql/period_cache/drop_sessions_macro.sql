-- The issue is done: play_sessions is the staging macro again. temp. names only the temp schema's macro.
DROP MACRO TABLE IF EXISTS temp.play_sessions
