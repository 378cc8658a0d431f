#pragma once
// `sqltrack export`: runs as one table in the shape of MLOS's results_df (one row per run,
// config.<k> and result.<metric> columns), or their metric rows as a long table, written as
// CSV or JSON lines while the rows stream from the database.

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/store/run_status.hpp"

namespace sqltrack {

enum class ExportFormat { csv, json_lines };

// What result.<metric> holds: the last value (at the largest step where the metric is not
// NULL), the smallest or the largest; `all` writes every metric row instead of one per run.
enum class MetricSummary { last, min, max, all };

struct ExportOptions {
  std::vector<std::string> experiments;  // names; empty: every experiment
  std::vector<RunStatus> statuses;       // empty: every status
  ExportFormat format = ExportFormat::csv;
  MetricSummary metrics = MetricSummary::last;
};

// "csv" or "json"; nullopt for anything else.
std::optional<ExportFormat> parse_export_format(std::string_view text);
// "last", "min", "max" or "all"; nullopt for anything else.
std::optional<MetricSummary> parse_metric_summary(std::string_view text);

// Writes the selected runs, ordered by run id, to `out` and returns the number of rows.
//
// One row per run (last, min, max), columns in this order:
//   run_id, experiment, status, ts_start, ts_end, duration_seconds (ts_end - ts_start),
//   exit_code, signal, hostname, slurm_job_id, slurm_array_job_id, slurm_array_task_id,
//   slurm_restart_count, comment, args (the command line as JSON), git (runs.git: commit,
//   branch, remote, dirty as JSON),
//   tags.<k>   for each key of the experiments' tags JSON,
//   config.<k> for each key of the runs' tags JSON (the --tag K=V values: a run's
//              configuration, as MLOS calls a trial's parameters),
//   result.<m> for each metric column of `metrics`.
// Keys are sorted; a run without a key has NULL there. Times are UTC,
// "2026-11-23 10:15:30.123456+00:00". Metrics `all`: run_id, step, progress and one column
// per metric, ordered by run, step and progress.
//
// Throws Error naming an experiment that does not exist.
std::size_t export_runs(db::Database& db, const ExportOptions& options, std::ostream& out);

}  // namespace sqltrack
