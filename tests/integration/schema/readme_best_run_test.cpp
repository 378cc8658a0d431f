// The "best run" query of README.md, as it is written there, on real SQLite and PostgreSQL
// databases: runs without the metric come last on both engines (SQLite sorts NULLs first
// unless told otherwise).
#include <gtest/gtest.h>

#include <regex>

#include "integration/read/read_side_fixture.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::EngineDatabase;

// The SQL of `best = pd.read_sql("...", conn)` in README.md.
std::string readme_best_run_query() {
  const std::string readme = test::read_file(SQLTRACK_SOURCE_DIR "/README.md");
  std::smatch match;
  if (!std::regex_search(readme, match,
                         std::regex(R"re(best = pd\.read_sql\("([^"]*)", conn\))re"))) {
    ADD_FAILURE() << "README.md has no line best = pd.read_sql(\"...\", conn)";
    return {};
  }
  return match[1];
}

class ReadmeBestRunTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  EngineDatabase db_{GetParam()};
};

TEST_P(ReadmeBestRunTest, RunsWithoutTheMetricComeLast) {
  const std::string real = db_.engine() == db::Engine::postgres ? "DOUBLE PRECISION" : "REAL";
  test::write_file(db_.cwd() / "v001.sql",
                   "ALTER TABLE metrics ADD COLUMN val_loss " + real + ";\n");
  auto setup = test::sqltrack_cli(db_, {"setup", "v001.sql"});
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  auto conn = db_.connect();
  conn->query("INSERT INTO experiments (name) VALUES ('resnet50')", {});
  // Runs 1 and 3 have a val_loss, run 2 has none, run 4 did not complete.
  for (const char* status : {"COMPLETED", "COMPLETED", "COMPLETED", "FAILED"}) {
    const std::vector<db::Value> row{std::string(status)};
    conn->query("INSERT INTO runs (experiment_id, status) VALUES (1, $1)", row);
  }
  for (const auto& [run, loss] : {std::pair{1, 0.3}, std::pair{3, 0.1}, std::pair{4, 0.05}}) {
    const std::vector<db::Value> row{std::int64_t{run}, loss};
    conn->query("INSERT INTO metrics (run_id, step, progress, val_loss) VALUES ($1, 0, 0, $2)",
                row);
  }
  const std::string query = readme_best_run_query();
  auto best = conn->query(query, {});
  const std::size_t run_id = best.column("run_id");
  std::vector<std::string> order;
  for (const auto& row : best.rows) order.push_back(row[run_id].value_or("NULL"));
  EXPECT_EQ(order, (std::vector<std::string>{"3", "1", "2"})) << "README.md's query: " << query;
}

INSTANTIATE_TEST_SUITE_P(Engines, ReadmeBestRunTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

}  // namespace
}  // namespace sqltrack
