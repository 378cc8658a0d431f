-- What a job wrapper knows about a run besides sqltrack 0.1.3's columns, and
-- the history of its status changes. Additive only: nullable columns, a new table.
-- (SQLite: times are ISO 8601 text in UTC, booleans 0/1.)
ALTER TABLE runs ADD COLUMN hostname TEXT;
ALTER TABLE runs ADD COLUMN username TEXT;
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN cwd TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_seconds REAL;
ALTER TABLE runs ADD COLUMN time_ended TEXT;
ALTER TABLE runs ADD COLUMN exit_code INTEGER;
ALTER TABLE runs ADD COLUMN signal INTEGER;
ALTER TABLE runs ADD COLUMN core_dumped INTEGER;
ALTER TABLE runs ADD COLUMN wall_seconds REAL;
ALTER TABLE runs ADD COLUMN cpu_user_seconds REAL;
ALTER TABLE runs ADD COLUMN cpu_system_seconds REAL;
ALTER TABLE runs ADD COLUMN max_rss_kib INTEGER;
ALTER TABLE runs ADD COLUMN slurm_job_id INTEGER;
ALTER TABLE runs ADD COLUMN slurm_array_job_id INTEGER;
ALTER TABLE runs ADD COLUMN slurm_array_task_id INTEGER;
ALTER TABLE runs ADD COLUMN slurm_restart_count INTEGER;
ALTER TABLE runs ADD COLUMN slurm_job_name TEXT;
ALTER TABLE runs ADD COLUMN slurm_cluster TEXT;
ALTER TABLE runs ADD COLUMN slurm_nodelist TEXT;
ALTER TABLE runs ADD COLUMN slurm_partition TEXT;

CREATE INDEX runs_slurm_job_id ON runs (slurm_job_id);

CREATE TABLE run_status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    status TEXT NOT NULL REFERENCES runstatus (name),
    detail TEXT
);
CREATE INDEX run_status_history_run_id ON run_status_history (run_id, time);
