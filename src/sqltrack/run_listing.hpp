#pragma once
// Reading runs back for `sqltrack-run status`: filters, staleness, JSON.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/db/database.hpp"
#include "sqltrack/store.hpp"

namespace sqltrack {

struct RunFilter {
  std::vector<std::int64_t> run_ids;
  std::optional<std::string> experiment;
  // A Slurm job id ("12": the job, or every task of array 12) or "12_3" (one array task).
  std::optional<std::string> slurm_job;
  std::size_t limit = 50;
};

// Every column of runs, plus experiment (its name) and last_step (largest
// metric step, NULL without metrics); newest first.
db::ResultSet list_runs(db::Database& db, const RunFilter& filter);

// A RUNNING run whose heartbeat is older than three intervals: its wrapper is
// probably gone without a word.
bool is_stale(const db::ResultSet& runs, std::size_t row, Clock::time_point now);

// One run as a JSON object: numbers as numbers, JSON columns as JSON.
nlohmann::json run_to_json(const db::ResultSet& runs, std::size_t row);

// "12" or "12_3" for the run's Slurm job, empty outside Slurm.
std::string slurm_job_label(const db::ResultSet& runs, std::size_t row);

}  // namespace sqltrack
