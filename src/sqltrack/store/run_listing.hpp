#pragma once
// Reading runs back for `sqltrack-run status`: filters, staleness, JSON; experiments by name.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/db/database.hpp"
#include "sqltrack/store/run_status.hpp"
#include "sqltrack/store/store.hpp"

namespace sqltrack {

struct RunFilter {
  std::vector<std::int64_t> run_ids;
  std::optional<std::string> experiment;
  // A Slurm job id ("12": the job, or every task of array 12) or "12_3" (one array task).
  std::optional<std::string> slurm_job;
  std::vector<RunStatus> statuses;  // any of these; empty: every status
  // Each KEY=VALUE must be among the run's tags (a tag stored as a number matches its text).
  std::vector<std::pair<std::string, std::string>> tags;
  std::optional<Clock::time_point> created_since;
  std::size_t limit = 50;
};

// A leaderboard's order: by the last value (at the largest step) of a metric column; runs
// without a value come last, ties newest first. The caller checks that the column exists.
struct MetricOrder {
  std::string column;
  bool descending = false;
};

// The id of the experiment called `name`. Error for none: 'no experiment named "NAME"
// (experiments: a, b, ...)', the first five names, so that a typo is seen at once.
std::int64_t experiment_id_named(db::Database& db, const std::string& name);

// Every column of runs, plus experiment (its name) and last_step (largest
// metric step, NULL without metrics); newest first, or in `order`.
db::ResultSet list_runs(db::Database& db, const RunFilter& filter,
                        const std::optional<MetricOrder>& order = std::nullopt);

// A RUNNING run whose heartbeat is older than three intervals: its wrapper is
// probably gone without a word.
bool is_stale(const db::ResultSet& runs, std::size_t row, Clock::time_point now);

// One run as a JSON object: numbers as numbers, JSON columns as JSON.
nlohmann::json run_to_json(const db::ResultSet& runs, std::size_t row);

// "12" or "12_3" for the run's Slurm job, empty outside Slurm.
std::string slurm_job_label(const db::ResultSet& runs, std::size_t row);

}  // namespace sqltrack
