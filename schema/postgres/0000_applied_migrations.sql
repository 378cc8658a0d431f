-- Which migrations this database has had: the project's own (named
-- "sqltrack/NNNN_name.sql") and the user's scripts given to `sqltrack setup`.
CREATE TABLE IF NOT EXISTS applied_migrations (
    name TEXT PRIMARY KEY,
    checksum TEXT NOT NULL,
    time_applied TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
);
