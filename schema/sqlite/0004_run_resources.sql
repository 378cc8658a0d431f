-- Resource sampling by sqltrack-run (--sample): what the command's processes and the node's
-- GPUs use while it runs, and which GPUs the run saw. Additive only: a nullable column and a
-- new table. (SQLite: times are ISO 8601 text in UTC, JSON is text checked by json_valid.)
ALTER TABLE runs ADD COLUMN gpus TEXT CHECK (gpus IS NULL OR json_valid(gpus));

-- One row per sample of the command's process tree (gpu_index NULL) and one per GPU
-- (gpu_index set, the process columns NULL).
CREATE TABLE run_resources (
    id INTEGER PRIMARY KEY,  -- the rowid: no AUTOINCREMENT bookkeeping per sample
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    time TEXT NOT NULL,
    interval_seconds REAL,  -- the interval the CPU and I/O columns cover
    cpu_percent REAL,       -- 100 = one core busy for the whole interval
    rss_bytes INTEGER,      -- resident memory at the end, summed over processes
    read_bytes INTEGER,     -- from storage during the interval
    write_bytes INTEGER,    -- to storage during the interval
    processes INTEGER,
    gpu_index INTEGER,
    gpu_util_percent REAL,
    gpu_memory_bytes INTEGER  -- in use on the GPU, by every process on it
);
CREATE INDEX run_resources_run_id ON run_resources (run_id, time);
