-- A queued command whose record (runs.args) had secrets redacted keeps its real argv here,
-- for the worker that runs it, until the run ends. Exports, reports and the views never read
-- this table. Additive: a new table.
CREATE TABLE IF NOT EXISTS queued_commands (
    run_id BIGINT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    args JSONB NOT NULL
);
