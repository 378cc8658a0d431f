// A batch larger than one statement, on a real PostgreSQL server: new steps go in by a plain
// COPY, steps already stored are merged, and a row stored between the check and the COPY
// makes the batch go again through upserts, nothing lost and nothing refused.
#include <gtest/gtest.h>

#include "sqltrack/metrics/sql/metric_columns.hpp"
#include "sqltrack/metrics/sql/metric_upsert.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/store/store.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

class MetricUpsertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_schema(*db_, std::nullopt);
    db_->execute("ALTER TABLE metrics ADD COLUMN a DOUBLE PRECISION");
    db_->execute("ALTER TABLE metrics ADD COLUMN b DOUBLE PRECISION");
    RunStart start;
    start.experiment = "upsert";
    run_id_ = RunStore(*db_).start_run(start).run_id;
  }

  // Rows for steps [first, last), each with `column` = step * scale.
  static std::vector<MetricRow> rows(std::int64_t first, std::int64_t last,
                                     const std::string& column, double scale) {
    std::vector<MetricRow> batch;
    for (std::int64_t step = first; step < last; ++step) {
      batch.push_back(MetricRow{step, 0.0, {{column, static_cast<double>(step) * scale}}});
    }
    return batch;
  }

  std::vector<RefusedMetricRow> upsert(const std::vector<MetricRow>& batch) {
    return upsert_metric_rows(*db_, run_id_, batch, MetricColumns::load(*db_));
  }

  std::string scalar(const std::string& sql) {
    return db_->query(sql, {}).scalar().value_or("<null>");
  }

  // count, sum(a), sum(b) and the number of rows with both, for the run.
  std::string summary() {
    return scalar(
        "SELECT count(*) || ' ' || coalesce(sum(a), 0) || ' ' || coalesce(sum(b), 0) || ' ' || "
        "count(a + b) FROM metrics WHERE run_id = " +
        std::to_string(run_id_));
  }

  test::ScratchPostgresDatabase scratch_;
  std::unique_ptr<db::Database> db_ = scratch_.connect();
  std::int64_t run_id_ = 0;
};

TEST_F(MetricUpsertTest, ABatchOfNewStepsIsStoredWhole) {
  auto refused = upsert(rows(0, 1000, "a", 1.0));
  EXPECT_TRUE(refused.empty()) << refused.front().reason;
  // sum(0..999) = 499500
  EXPECT_EQ(summary(), "1000 499500 0 0");
}

TEST_F(MetricUpsertTest, ABatchOverlappingStoredStepsMergesIntoThem) {
  ASSERT_TRUE(upsert(rows(0, 500, "a", 1.0)).empty());
  auto refused = upsert(rows(250, 1250, "b", 2.0));
  EXPECT_TRUE(refused.empty()) << refused.front().reason;
  // a: sum(0..499) = 124750; b: 2 * sum(250..1249) = 1499000; steps 250..499 have both.
  EXPECT_EQ(summary(), "1250 124750 1499000 250");
}

TEST_F(MetricUpsertTest, ABatchAfterTheStoredStepsLeavesThemAsTheyAre) {
  ASSERT_TRUE(upsert(rows(0, 500, "a", 1.0)).empty());
  auto refused = upsert(rows(500, 1500, "b", 1.0));
  EXPECT_TRUE(refused.empty()) << refused.front().reason;
  // b: sum(500..1499) = 999500
  EXPECT_EQ(summary(), "1500 124750 999500 0");
}

// Another writer of the same run (a `sqltrack sync` of its journal, say) stores step 700
// after the check found the steps free: a trigger plays that writer, inside the COPY.
TEST_F(MetricUpsertTest, ARowStoredAfterTheCheckSendsTheBatchThroughUpserts) {
  db_->execute(
      "CREATE FUNCTION plant_step_700() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "IF NEW.step = 600 AND pg_trigger_depth() = 1 THEN "
      "INSERT INTO metrics (run_id, step, progress, b) VALUES (NEW.run_id, 700, 0, 7) "
      "ON CONFLICT DO NOTHING; END IF; RETURN NEW; END $$");
  db_->execute(
      "CREATE TRIGGER plant BEFORE INSERT ON metrics FOR EACH ROW EXECUTE FUNCTION "
      "plant_step_700()");
  auto refused = upsert(rows(0, 1000, "a", 1.0));
  EXPECT_TRUE(refused.empty()) << refused.size()
                               << " rows refused, the first: " << refused.front().reason;
  EXPECT_EQ(summary(), "1000 499500 7 1");
}

}  // namespace
}  // namespace sqltrack
