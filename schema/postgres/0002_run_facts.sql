-- What a job wrapper knows about a run besides sqltrack 0.1.3's columns, and
-- the history of its status changes. Additive only: nullable columns, a new table.
ALTER TABLE runs ADD COLUMN hostname TEXT;
ALTER TABLE runs ADD COLUMN username TEXT;
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN cwd TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_seconds DOUBLE PRECISION;
ALTER TABLE runs ADD COLUMN time_ended TIMESTAMP WITH TIME ZONE;
ALTER TABLE runs ADD COLUMN exit_code INTEGER;
ALTER TABLE runs ADD COLUMN signal INTEGER;
ALTER TABLE runs ADD COLUMN core_dumped BOOLEAN;
ALTER TABLE runs ADD COLUMN wall_seconds DOUBLE PRECISION;
ALTER TABLE runs ADD COLUMN cpu_user_seconds DOUBLE PRECISION;
ALTER TABLE runs ADD COLUMN cpu_system_seconds DOUBLE PRECISION;
ALTER TABLE runs ADD COLUMN max_rss_kib BIGINT;
ALTER TABLE runs ADD COLUMN slurm_job_id BIGINT;
ALTER TABLE runs ADD COLUMN slurm_array_job_id BIGINT;
ALTER TABLE runs ADD COLUMN slurm_array_task_id BIGINT;
ALTER TABLE runs ADD COLUMN slurm_restart_count INTEGER;
ALTER TABLE runs ADD COLUMN slurm_job_name TEXT;
ALTER TABLE runs ADD COLUMN slurm_cluster TEXT;
ALTER TABLE runs ADD COLUMN slurm_nodelist TEXT;
ALTER TABLE runs ADD COLUMN slurm_partition TEXT;

CREATE INDEX runs_slurm_job_id ON runs (slurm_job_id);

CREATE TABLE run_status_history (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    time TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    status runstatus NOT NULL,
    detail TEXT
);
CREATE INDEX run_status_history_run_id ON run_status_history (run_id, time);
