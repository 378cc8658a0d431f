// Metric series for sparklines and report charts, read from real SQLite and PostgreSQL
// databases: buckets, NULLs, the last value, column checks.
#include "sqltrack/read/metric_series.hpp"

#include <gtest/gtest.h>

#include <array>

#include "sqltrack/schema/schema.hpp"
#include "sqltrack/util/error.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

class MetricSeriesTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    db_ = database_.connect();
    ensure_schema(*db_);
    const bool pg = GetParam() == db::Engine::postgres;
    db_->execute(std::string("ALTER TABLE metrics ADD COLUMN val_loss ") +
                 (pg ? "double precision" : "REAL"));
    db_->execute(std::string("ALTER TABLE metrics ADD COLUMN epochs ") +
                 (pg ? "bigint" : "INTEGER"));
    db_->execute("ALTER TABLE metrics ADD COLUMN phase TEXT");
    db_->execute(std::string("ALTER TABLE metrics ADD COLUMN \"Odd \"\"Name\" ") +
                 (pg ? "double precision" : "REAL"));
    db_->execute("INSERT INTO experiments (name) VALUES ('series')");
    for (int i = 0; i < 3; ++i) {
      db_->execute(
          "INSERT INTO runs (experiment_id, status) "
          "SELECT id, 'RUNNING' FROM experiments WHERE name = 'series'");
      runs_.push_back(std::stoll(db_->query("SELECT max(id) FROM runs").scalar().value()));
    }
  }

  void insert(std::int64_t run, std::int64_t step, double progress, db::Value val_loss,
              db::Value epochs) {
    const std::array<db::Value, 5> params{run, step, progress, std::move(val_loss),
                                          std::move(epochs)};
    db_->query(
        "INSERT INTO metrics (run_id, step, progress, val_loss, epochs) "
        "VALUES ($1, $2, $3, $4, $5)",
        params);
  }

  std::string error_of(std::string_view column) {
    try {
      plottable_metric_column(*db_, column);
    } catch (const Error& e) {
      return e.what();
    }
    return "<no error>";
  }

  test::EngineDatabase database_{GetParam()};
  std::unique_ptr<db::Database> db_;
  std::vector<std::int64_t> runs_;
};

TEST_P(MetricSeriesTest, ManyRowsAreAveragedIntoBucketsOfConsecutiveSteps) {
  db::Transaction transaction(*db_);
  for (std::int64_t step = 0; step < 45; ++step) {
    insert(runs_[0], step, 0.0, 0.5 * static_cast<double>(step), step);
  }
  transaction.commit();
  auto series = read_metric_series(*db_, plottable_metric_column(*db_, "val_loss"), runs_, 20);
  ASSERT_EQ(series.size(), 1u);
  const auto& points = series.at(runs_[0]).points;
  ASSERT_EQ(points.size(), 20u);
  // 45 rows in 20 buckets: five buckets of three rows, then fifteen of two.
  EXPECT_DOUBLE_EQ(points[0].step, 1);
  EXPECT_DOUBLE_EQ(points[0].value, 0.5);
  EXPECT_DOUBLE_EQ(points[5].step, 15.5);
  EXPECT_DOUBLE_EQ(points[5].value, 7.75);
  EXPECT_DOUBLE_EQ(points[19].step, 43.5);
  EXPECT_DOUBLE_EQ(points[19].value, 21.75);
  EXPECT_DOUBLE_EQ(series.at(runs_[0]).last_value, 22) << "the last row, not its bucket's mean";

  auto integers = read_metric_series(*db_, plottable_metric_column(*db_, "epochs"), runs_, 5);
  ASSERT_EQ(integers.at(runs_[0]).points.size(), 5u);
  EXPECT_DOUBLE_EQ(integers.at(runs_[0]).points[0].value, 4) << "mean of 0..8";
  EXPECT_DOUBLE_EQ(integers.at(runs_[0]).last_value, 44);
}

TEST_P(MetricSeriesTest, FewRowsComeBackAsTheyAreInStepAndProgressOrderWithoutNulls) {
  insert(runs_[1], 2, 0.5, 2.0, db::Value{});
  insert(runs_[1], 0, 0.0, 3.0, 1);
  insert(runs_[1], 1, 0.0, db::Value{}, 2);
  insert(runs_[1], 2, 0.0, 1.0, db::Value{});
  insert(runs_[2], 0, 0.0, db::Value{}, 7);
  auto series = read_metric_series(*db_, plottable_metric_column(*db_, "val_loss"), runs_, 20);
  ASSERT_EQ(series.size(), 1u) << "run " << runs_[2] << " has no val_loss at all";
  const auto& run = series.at(runs_[1]);
  ASSERT_EQ(run.points.size(), 3u);
  EXPECT_DOUBLE_EQ(run.points[0].step, 0);
  EXPECT_DOUBLE_EQ(run.points[0].value, 3);
  EXPECT_DOUBLE_EQ(run.points[1].value, 1);
  EXPECT_DOUBLE_EQ(run.points[2].value, 2);
  EXPECT_DOUBLE_EQ(run.last_value, 2) << "step 2 at progress 0.5 is the last row";

  auto epochs = read_metric_series(*db_, plottable_metric_column(*db_, "epochs"), runs_, 20);
  EXPECT_EQ(epochs.size(), 2u);
  EXPECT_DOUBLE_EQ(epochs.at(runs_[2]).last_value, 7);
}

TEST_P(MetricSeriesTest, ColumnNamesAreQuotedIdentifiers) {
  const std::array<db::Value, 1> run{runs_[0]};
  db_->query("INSERT INTO metrics (run_id, step, \"Odd \"\"Name\") VALUES ($1, 3, 1.5)", run);
  auto column = plottable_metric_column(*db_, "Odd \"Name");
  auto series = read_metric_series(*db_, column, runs_, 20);
  ASSERT_EQ(series.count(runs_[0]), 1u);
  EXPECT_DOUBLE_EQ(series.at(runs_[0]).last_value, 1.5);
}

TEST_P(MetricSeriesTest, ColumnsThatAreMissingOrHoldNoNumbersAreRefusedWithTheChoices) {
  std::string missing = error_of("val_los");
  EXPECT_NE(missing.find("no metric column \"val_los\""), std::string::npos) << missing;
  EXPECT_NE(missing.find("val_loss, epochs, phase, Odd \"Name"), std::string::npos) << missing;
  std::string text = error_of("phase");
  EXPECT_NE(text.find("\"phase\" holds"), std::string::npos) << text;
  EXPECT_NE(text.find("numeric metric columns: val_loss, epochs, Odd \"Name"), std::string::npos)
      << text;
  EXPECT_NE(error_of("step").find("no metric column \"step\""), std::string::npos)
      << "key columns are not metrics";
  auto numeric = numeric_metric_columns(*db_);
  ASSERT_EQ(numeric.size(), 3u);
  EXPECT_EQ(numeric[0].name, "val_loss");
  EXPECT_EQ(numeric[1].name, "epochs");
}

INSTANTIATE_TEST_SUITE_P(Engines, MetricSeriesTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

}  // namespace
}  // namespace sqltrack
