#include "sqltrack/store/stale_runs.hpp"

#include <array>

#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {

std::vector<StaleRun> mark_stale_runs(db::Database& db,
                                      const std::optional<std::string>& experiment,
                                      std::chrono::duration<double> older_than,
                                      Clock::time_point now) {
  std::string sql =
      "SELECT r.id, r.time_updated, r.heartbeat_seconds FROM runs r "
      "JOIN experiments e ON e.id = r.experiment_id WHERE r.status = 'RUNNING' AND "
      "r.queue_attempts IS NULL AND r.slurm_job_id IS NULL AND r.slurm_array_job_id IS NULL";
  std::vector<db::Value> params;
  if (experiment) {
    sql += " AND e.name = $1";
    params.emplace_back(*experiment);
  }
  auto candidates = db.query(sql + " ORDER BY r.id", params);
  RunStore store(db);
  std::vector<StaleRun> marked;
  for (const auto& row : candidates.rows) {
    auto updated = row[1] ? parse_timestamp(*row[1]) : std::nullopt;
    std::optional<double> interval;
    if (row[2]) interval = std::stod(*row[2]);
    if (!updated || !heartbeat_overdue(*updated, interval, now, older_than)) continue;
    StaleRun run{std::stoll(row[0].value_or("0")),
                 "wrapper lost: no heartbeat since " + format_timestamp(*updated)};
    db::Transaction transaction(db);
    const std::array<db::Value, 3> change{run.run_id, format_timestamp(now), *row[1]};
    // Only while nobody else moved it (its wrapper's heartbeat, another mark-stale).
    auto written = db.query(
        "UPDATE runs SET status = 'FAILED', time_updated = $2, "
        "time_ended = COALESCE(time_ended, $2) "
        "WHERE id = $1 AND status = 'RUNNING' AND time_updated = $3 RETURNING id",
        change);
    if (written.empty()) continue;
    store.add_history(run.run_id, RunStatus::FAILED, run.detail, now);
    transaction.commit();
    marked.push_back(std::move(run));
  }
  return marked;
}

}  // namespace sqltrack
