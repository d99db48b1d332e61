-- The file behind the store (NULL for a store in memory): the outcome journal lives next to it.
SELECT path FROM duckdb_databases() WHERE database_name = current_database()
