-- How many deliveries of one message key are in each state.
SELECT state, count(*) AS n
FROM deliveries
WHERE message_key = $key
GROUP BY state
ORDER BY state
