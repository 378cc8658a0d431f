// The read side on a metrics table much larger than what one read needs: every statement that
// `sqltrack-run status`, `status --metric`, the run_summary view, `export`, `report` and
// `compare` send reaches metrics through its index, never by a sequential scan, which on a
// year-old database reads every run's rows (bench/big_db.py measures the 10-million-row case).
// PostgreSQL only: its statistics count each table's sequential scans.
#include <gtest/gtest.h>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "integration/read/read_side_fixture.hpp"
#include "sqltrack/read/export.hpp"
#include "sqltrack/read/metric_series.hpp"
#include "sqltrack/read/report.hpp"
#include "sqltrack/read/run_comparison.hpp"
#include "sqltrack/read/status_table.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

class BigTablePlanTest : public ::testing::Test {
 protected:
  BigTablePlanTest() : db_(db::Engine::postgres) {}

  // 100 runs in 20 experiments of 5, 1 000 steps each with m0 and m1: 100 000 metric rows, of
  // which one experiment holds 5 %.
  void SetUp() override {
    test::write_file(db_.cwd() / "v001.sql",
                     "ALTER TABLE metrics ADD COLUMN m0 DOUBLE PRECISION;\n"
                     "ALTER TABLE metrics ADD COLUMN m1 DOUBLE PRECISION;\n");
    auto setup = test::sqltrack_cli(db_, {"setup", "v001.sql"});
    ASSERT_EQ(setup.exit_code, 0) << setup.err;
    conn_ = db_.connect();
    conn_->execute("INSERT INTO experiments (name) SELECT 'e' || e FROM generate_series(1, 20) e");
    conn_->execute(
        "INSERT INTO runs (experiment_id, status, time_started, time_ended, exit_code, tags) "
        "SELECT x.id, 'COMPLETED', now(), now(), 0, jsonb_build_object('seed', r % 5) "
        "FROM generate_series(1, 100) r JOIN experiments x ON x.name = 'e' || (1 + r % 20)");
    conn_->execute(
        "INSERT INTO metrics (run_id, step, progress, m0, m1) "
        "SELECT r.id, s, 0, 1.0 / (s + 1), s * 0.001 FROM runs r, generate_series(0, 999) s");
    conn_->execute("ANALYZE");
    for (const auto& row : conn_
                               ->query("SELECT r.id FROM runs r JOIN experiments x ON "
                                       "x.id = r.experiment_id WHERE x.name = 'e1' ORDER BY r.id")
                               .rows) {
      e1_runs_.push_back(std::stoll(row[0].value_or("0")));
    }
    ASSERT_EQ(e1_runs_.size(), 5u);
  }

  // Sequential scans of metrics so far, this connection's included: its pending counts are
  // flushed at the end of the first statement, and the second reads them afresh.
  std::int64_t metrics_seq_scans() {
    conn_->query("SELECT pg_stat_force_next_flush()");
    conn_->query("SELECT pg_stat_clear_snapshot()");
    auto scans =
        conn_->query("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'metrics'").scalar();
    return std::stoll(scans.value_or("-1"));
  }

  test::EngineDatabase db_;
  std::unique_ptr<db::Database> conn_;
  std::vector<std::int64_t> e1_runs_;
};

TEST_F(BigTablePlanTest, EveryReadReachesMetricsThroughItsIndex) {
  db::Database& db = *conn_;
  StatusQuery with_metric;
  with_metric.filter.experiment = "e1";
  with_metric.metric = plottable_metric_column(db, "m0");
  StatusQuery leaderboard = with_metric;
  leaderboard.filter.experiment.reset();
  leaderboard.order = parse_metric_order("m0:asc");
  const std::vector<std::pair<const char*, std::function<void()>>> reads = {
      {"status", [&] { read_status_table(db, StatusQuery{}, Clock::now()); }},
      {"status -e e1 --metric m0", [&] { read_status_table(db, with_metric, Clock::now()); }},
      {"status --sort m0:asc", [&] { read_status_table(db, leaderboard, Clock::now()); }},
      {"run_summary of e1",
       [&] {
         std::vector<db::Value> name{std::string("e1")};
         db.query("SELECT * FROM run_summary WHERE experiment = $1", name);
       }},
      {"export -e e1 --metrics last",
       [&] {
         ExportOptions options;
         options.experiments = {"e1"};
         std::ostringstream out;
         export_runs(db, options, out);
       }},
      {"report -e e1",
       [&] {
         ReportOptions options;
         options.experiment = "e1";
         read_report(db, options, Clock::now());
       }},
      {"compare of e1's runs", [&] { read_run_comparison(db, e1_runs_); }},
  };
  for (const auto& [name, read] : reads) {
    const auto before = metrics_seq_scans();
    ASSERT_GE(before, 0) << "no statistics for the metrics table";
    read();
    EXPECT_EQ(metrics_seq_scans(), before)
        << name << ": expected no sequential scan of metrics (100 000 rows, 5 000 of them "
        << "e1's), but it read the table by one";
  }
}

// The README's advice for a metric plotted on a big table: an index on metrics (run_id, step,
// progress) INCLUDE (the column), added by a migration. The sparklines of `status --metric`
// are then read from that index alone: it is scanned, and no row is fetched from the table.
TEST_F(BigTablePlanTest, ACoveringIndexServesTheSparklinesWithoutTheTable) {
  test::write_file(db_.cwd() / "v002.sql",
                   "CREATE INDEX metrics_m0_by_run ON metrics (run_id, step, progress) "
                   "INCLUDE (m0);\n");
  auto setup = test::sqltrack_cli(db_, {"setup", "v002.sql"});
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  conn_->execute("VACUUM ANALYZE metrics");  // an index-only scan needs all-visible pages
  const std::string use =
      "SELECT (idx_scan > 0) || ' ' || idx_tup_fetch FROM pg_stat_user_indexes "
      "WHERE indexrelname = 'metrics_m0_by_run'";
  const auto before_scans = metrics_seq_scans();
  ASSERT_EQ(conn_->query(use, {}).scalar().value_or("<no statistics>"), "false 0");
  StatusQuery with_metric;
  with_metric.filter.experiment = "e1";
  with_metric.metric = plottable_metric_column(*conn_, "m0");
  read_status_table(*conn_, with_metric, Clock::now());
  metrics_seq_scans();  // flushes this connection's counts
  EXPECT_EQ(conn_->query(use, {}).scalar().value_or("<no statistics>"), "true 0")
      << "expected \"true 0\": metrics_m0_by_run scanned, and no row fetched from the table "
         "through it (an index-only scan)";
  EXPECT_EQ(metrics_seq_scans(), before_scans);
}

}  // namespace
}  // namespace sqltrack
