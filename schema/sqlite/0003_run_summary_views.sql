-- The read side: one row per run (run_summary) and the last value of each metric per run
-- (latest_metrics), for the sqlite3 shell and pandas
-- (pd.read_sql("select * from run_summary", conn)). Times and JSON stay TEXT; durations
-- are seconds (julianday keeps milliseconds).
--
-- Metric columns are not fixed, so sqltrack regenerates both views from the columns of
-- `metrics` (src/sqltrack/summary_views.cpp) after every migration, after `sqltrack setup`
-- and after `--add-columns` adds one: each metric column then gets its last value, the
-- one at the largest (step, progress) among the run's rows where it is not NULL. What
-- is written here is that same SQL for a metrics table without metric columns.
CREATE VIEW latest_metrics AS
SELECT r.id AS run_id,
       (SELECT m.step FROM metrics m WHERE m.run_id = r.id
        ORDER BY m.step DESC, m.progress DESC LIMIT 1) AS step,
       (SELECT m.progress FROM metrics m WHERE m.run_id = r.id
        ORDER BY m.step DESC, m.progress DESC LIMIT 1) AS progress
FROM runs r
WHERE EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.id);

CREATE VIEW run_summary AS
SELECT r.id AS run_id,
       r.experiment_id,
       e.name AS experiment,
       CAST(r.status AS TEXT) AS status,
       r.comment,
       r.time_created,
       r.time_started,
       r.time_updated,
       r.time_ended,
       round((julianday(r.time_ended) - julianday(r.time_started)) * 86400.0, 3)
           AS duration_seconds,
       r.exit_code,
       r.signal,
       r.hostname,
       r.slurm_job_id,
       r.slurm_array_job_id,
       r.slurm_array_task_id,
       r.slurm_restart_count,
       r.tags,
       (SELECT max(m.step) FROM metrics m WHERE m.run_id = r.id) AS last_step
FROM runs r
JOIN experiments e ON e.id = r.experiment_id;
