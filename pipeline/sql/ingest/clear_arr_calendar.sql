-- Forget one app's calendar before it is written again ($app: sonarr | radarr).
DELETE FROM arr_calendar WHERE item_key LIKE $app || ':%'
