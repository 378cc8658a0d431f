-- Which migrations this database has had: the project's own (named
-- "sqltrack/NNNN_name.sql") and the user's scripts given to `sqltrack setup`.
CREATE TABLE IF NOT EXISTS applied_migrations (
    name TEXT PRIMARY KEY,
    checksum TEXT NOT NULL,
    time_applied TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);
