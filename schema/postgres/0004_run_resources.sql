-- Resource sampling by sqltrack-run (--sample): what the command's processes and the node's
-- GPUs use while it runs, and which GPUs the run saw. Additive only: a nullable column and a
-- new table.
ALTER TABLE runs ADD COLUMN gpus JSONB;

-- One row per sample of the command's process tree (gpu_index NULL) and one per GPU
-- (gpu_index set, the process columns NULL).
CREATE TABLE run_resources (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    time TIMESTAMP WITH TIME ZONE NOT NULL,
    interval_seconds DOUBLE PRECISION,  -- the interval the CPU and I/O columns cover
    cpu_percent DOUBLE PRECISION,       -- 100 = one core busy for the whole interval
    rss_bytes BIGINT,                   -- resident memory at the end, summed over processes
    read_bytes BIGINT,                  -- from storage during the interval
    write_bytes BIGINT,                 -- to storage during the interval
    processes INTEGER,
    gpu_index INTEGER,
    gpu_util_percent DOUBLE PRECISION,
    gpu_memory_bytes BIGINT             -- in use on the GPU, by every process on it
);
CREATE INDEX run_resources_run_id ON run_resources (run_id, time);
