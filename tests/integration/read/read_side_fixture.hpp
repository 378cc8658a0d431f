#pragma once
// The database that the read-side tests (views, export) look at: two experiments, four runs
// with tags, and two metric columns with sparse values, on either engine.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace sqltrack::test {

// `sqltrack` with the database's flags, in its directory.
inline CommandResult sqltrack_cli(const EngineDatabase& db, const std::vector<std::string>& args) {
  std::vector<std::string> argv{SQLTRACK_BIN};
  auto flags = db.cli_flags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.cwd = db.cwd();
  return run_command(argv, options);
}

// `sqltrack setup` with a user migration that adds the metric columns loss and val_acc.
inline void setup_metric_columns(const EngineDatabase& db) {
  const std::string real = db.engine() == db::Engine::postgres ? "DOUBLE PRECISION" : "REAL";
  write_file(db.cwd() / "v001.sql", "BEGIN;\nALTER TABLE metrics ADD COLUMN loss " + real +
                                        ";\nALTER TABLE metrics ADD COLUMN val_acc " + real +
                                        ";\nEND;\n");
  auto setup = sqltrack_cli(db, {"setup", "v001.sql"});
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
}

// Experiment 1 "sweep" (tags {"team": "vision"}) with runs 1 (COMPLETED, metrics with val_acc
// at two of four steps), 2 (FAILED, loss only) and 3 (RUNNING, no metrics); experiment 2
// "other" with run 4. Run 1's note tag and last argument hold a comma, quotes and a newline.
inline void insert_runs(db::Database& db) {
  auto exec = [&](const std::string& sql, std::vector<db::Value> params) { db.query(sql, params); };
  exec("INSERT INTO experiments (name, tags) VALUES ($1, $2)",
       {std::string("sweep"), nlohmann::json{{"team", "vision"}}.dump()});
  exec("INSERT INTO experiments (name) VALUES ($1)", {std::string("other")});
  struct Run {
    std::int64_t experiment;
    const char* status;
    const char* started;
    db::Value ended;
    db::Value exit_code;
    const char* hostname;
    db::Value slurm_job_id;
    db::Value comment;
    nlohmann::json tags;
    nlohmann::json args;
  };
  const std::vector<Run> runs = {
      {1, "COMPLETED", "2026-01-02 10:00:00+00:00", std::string("2026-01-02 10:05:30.5+00:00"),
       std::int64_t{0}, "node1", std::int64_t{4242}, std::string("first run"),
       nlohmann::json{{"lr", "0.1"}, {"note", "a, \"quoted\"\nvalue"}},
       nlohmann::json{"python", "train.py", "--name", "x,\"y\"\nz"}},
      {1,
       "FAILED",
       "2026-01-02 11:00:00+00:00",
       std::string("2026-01-02 11:01:00+00:00"),
       std::int64_t{1},
       "node2",
       {},
       {},
       nlohmann::json{{"lr", "0.01"}},
       nlohmann::json{"python", "train.py"}},
      {1,
       "RUNNING",
       "2026-01-02 12:00:00+00:00",
       {},
       {},
       "node1",
       {},
       {},
       nlohmann::json{{"lr", "0.001"}, {"seed", "7"}},
       nlohmann::json{"python"}},
      {2,
       "COMPLETED",
       "2026-01-03 09:00:00+00:00",
       std::string("2026-01-03 09:00:02.25+00:00"),
       std::int64_t{0},
       "node3",
       {},
       {},
       nlohmann::json{{"opt", "adam"}},
       nlohmann::json{"sh"}},
  };
  for (const auto& run : runs) {
    exec(
        "INSERT INTO runs (experiment_id, status, time_started, time_ended, exit_code, hostname, "
        "slurm_job_id, comment, tags, args) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        {run.experiment, std::string(run.status), std::string(run.started), run.ended,
         run.exit_code, std::string(run.hostname), run.slurm_job_id, run.comment, run.tags.dump(),
         run.args.dump()});
  }
  const db::Value null;
  const std::vector<std::vector<db::Value>> metrics = {
      {std::int64_t{1}, std::int64_t{0}, 0.0, 1.0, null},
      {std::int64_t{1}, std::int64_t{1}, 0.25, 0.5, 0.6},
      {std::int64_t{1}, std::int64_t{2}, 0.5, 0.25, 0.8},
      {std::int64_t{1}, std::int64_t{3}, 0.75, 0.3, null},
      {std::int64_t{2}, std::int64_t{0}, 0.0, 2.0, null},
      {std::int64_t{2}, std::int64_t{5}, 1.0, 1.5, null},
      {std::int64_t{4}, std::int64_t{0}, 0.0, 9.0, 0.125},
  };
  for (const auto& row : metrics) {
    exec("INSERT INTO metrics (run_id, step, progress, loss, val_acc) VALUES ($1, $2, $3, $4, $5)",
         row);
  }
}

}  // namespace sqltrack::test
