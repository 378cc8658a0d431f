#include "sqltrack/schema/summary_views.hpp"

#include <algorithm>
#include <array>

#include "sqltrack/schema/schema_lock.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

// run_summary's own columns, before the metric columns; keep in step with the SQL below.
constexpr std::array<std::string_view, 19> kRunSummaryColumns = {"run_id",
                                                                 "experiment_id",
                                                                 "experiment",
                                                                 "status",
                                                                 "comment",
                                                                 "time_created",
                                                                 "time_started",
                                                                 "time_updated",
                                                                 "time_ended",
                                                                 "duration_seconds",
                                                                 "exit_code",
                                                                 "signal",
                                                                 "hostname",
                                                                 "slurm_job_id",
                                                                 "slurm_array_job_id",
                                                                 "slurm_array_task_id",
                                                                 "slurm_restart_count",
                                                                 "tags",
                                                                 "last_step"};

bool is_key_column(std::string_view name) {
  return name == "run_id" || name == "step" || name == "progress";
}

std::string duration_sql(db::Engine engine) {
  // julianday() keeps milliseconds; rounding drops the binary noise of the day fraction.
  return engine == db::Engine::postgres
             ? "CAST(EXTRACT(EPOCH FROM r.time_ended - r.time_started) AS DOUBLE PRECISION)"
             : "round((julianday(r.time_ended) - julianday(r.time_started)) * 86400.0, 3)";
}

}  // namespace

std::string last_metric_value_sql(std::string_view column, std::string_view run_id) {
  const std::string name = db::quote_identifier(column);
  return "(SELECT m." + name + " FROM metrics m WHERE m.run_id = " + std::string(run_id) +
         " AND m." + name + " IS NOT NULL ORDER BY m.step DESC, m.progress DESC LIMIT 1)";
}

std::vector<std::string> run_summary_metric_names(const std::vector<std::string>& metric_columns) {
  std::vector<std::string> taken(kRunSummaryColumns.begin(), kRunSummaryColumns.end());
  taken.insert(taken.end(), metric_columns.begin(), metric_columns.end());
  std::vector<std::string> names;
  for (const auto& column : metric_columns) {
    std::string name = column;
    if (std::find(kRunSummaryColumns.begin(), kRunSummaryColumns.end(), name) !=
        kRunSummaryColumns.end()) {
      name = "metric_" + name;
      while (std::find(taken.begin(), taken.end(), name) != taken.end()) name = "metric_" + name;
      taken.push_back(name);
    }
    names.push_back(std::move(name));
  }
  return names;
}

std::vector<std::string> create_summary_views_sql(db::Engine engine,
                                                  const std::vector<std::string>& metric_columns) {
  std::string latest =
      "CREATE VIEW latest_metrics AS\n"
      "SELECT r.id AS run_id,\n"
      "       (SELECT m.step FROM metrics m WHERE m.run_id = r.id\n"
      "        ORDER BY m.step DESC, m.progress DESC LIMIT 1) AS step,\n"
      "       (SELECT m.progress FROM metrics m WHERE m.run_id = r.id\n"
      "        ORDER BY m.step DESC, m.progress DESC LIMIT 1) AS progress";
  for (const auto& column : metric_columns) {
    latest += ",\n       " + last_metric_value_sql(column, "r.id") + " AS " +
              db::quote_identifier(column);
  }
  latest +=
      "\nFROM runs r\n"
      "WHERE EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.id)";

  std::string summary =
      "CREATE VIEW run_summary AS\n"
      "SELECT r.id AS run_id,\n"
      "       r.experiment_id,\n"
      "       e.name AS experiment,\n"
      "       CAST(r.status AS TEXT) AS status,\n"
      "       r.comment,\n"
      "       r.time_created,\n"
      "       r.time_started,\n"
      "       r.time_updated,\n"
      "       r.time_ended,\n"
      "       " +
      duration_sql(engine) +
      "\n"
      "           AS duration_seconds,\n"
      "       r.exit_code,\n"
      "       r.signal,\n"
      "       r.hostname,\n"
      "       r.slurm_job_id,\n"
      "       r.slurm_array_job_id,\n"
      "       r.slurm_array_task_id,\n"
      "       r.slurm_restart_count,\n"
      "       r.tags,\n"
      "       (SELECT max(m.step) FROM metrics m WHERE m.run_id = r.id) AS last_step";
  const auto names = run_summary_metric_names(metric_columns);
  for (std::size_t i = 0; i < metric_columns.size(); ++i) {
    summary += ",\n       " + last_metric_value_sql(metric_columns[i], "r.id") + " AS " +
               db::quote_identifier(names[i]);
  }
  summary +=
      "\nFROM runs r\n"
      "JOIN experiments e ON e.id = r.experiment_id";
  return {latest, summary};
}

std::vector<std::string> metric_column_names(db::Database& db) {
  std::vector<std::string> names;
  for (auto& name : db.table_columns("metrics")) {
    if (!is_key_column(name)) names.push_back(std::move(name));
  }
  return names;
}

void drop_summary_views(db::Database& db) {
  db.execute("DROP VIEW IF EXISTS run_summary");
  db.execute("DROP VIEW IF EXISTS latest_metrics");
}

void create_summary_views(db::Database& db) {
  lock_schema_changes(db);
  try {
    drop_summary_views(db);
    for (const auto& statement : create_summary_views_sql(db.engine(), metric_column_names(db))) {
      db.execute(statement);
    }
  } catch (const DatabaseError& e) {
    throw DatabaseError(
        e.kind(),
        std::string("cannot create the views run_summary and latest_metrics: ") + e.what(),
        e.sqlstate());
  }
}

void refresh_summary_views(db::Database& db) {
  db::Transaction transaction(db);
  // DROP VIEW waits for every reader of the views (a long notebook query) and new readers
  // queue behind it: give up instead, the views stay as they were until the next refresh.
  if (db.engine() == db::Engine::postgres) db.execute("SET LOCAL lock_timeout = '5s'");
  create_summary_views(db);
  transaction.commit();
}

}  // namespace sqltrack
