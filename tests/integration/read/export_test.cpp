// `sqltrack export` through the real executable, on real SQLite and PostgreSQL databases:
// the same runs give the same bytes on both engines.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "integration/read/read_side_fixture.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

// RFC 4180, as a reader that knows nothing of the writer: quoted fields may hold commas,
// doubled quotes, CR and LF; records end with CRLF.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      ++i;
      while (i < text.size()) {
        if (text[i] == '"' && i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          i += 2;
        } else if (text[i] == '"') {
          ++i;
          break;
        } else {
          field += text[i++];
        }
      }
    } else if (text[i] == ',') {
      record.push_back(std::move(field));
      field.clear();
      ++i;
    } else if (text.compare(i, 2, "\r\n") == 0) {
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      i += 2;
    } else {
      field += text[i++];
    }
  }
  EXPECT_TRUE(record.empty() && field.empty()) << "the last record must end with CRLF";
  return records;
}

// A parsed CSV as one map per row: column name -> field.
std::vector<std::map<std::string, std::string>> csv_rows(const std::string& text) {
  auto records = parse_csv(text);
  std::vector<std::map<std::string, std::string>> rows;
  if (records.empty()) return rows;
  for (std::size_t r = 1; r < records.size(); ++r) {
    EXPECT_EQ(records[r].size(), records[0].size()) << "record " << r << " of\n" << text;
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < records[0].size() && c < records[r].size(); ++c) {
      row[records[0][c]] = records[r][c];
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string lines(const std::vector<std::string>& lines, const std::string& end) {
  std::string text;
  for (const auto& line : lines) text += line + end;
  return text;
}

// Run 1's runs.git, keys in another order than the export's (sorted) and with blanks.
constexpr std::string_view kRunOneGit =
    R"({"remote": "https://example.com/lab/models.git", "commit": )"
    R"("0123456789abcdef0123456789abcdef01234567", "branch": "main", "dirty": false})";

const std::string kSummaryHeader =
    "run_id,experiment,status,ts_start,ts_end,duration_seconds,exit_code,signal,hostname,"
    "slurm_job_id,slurm_array_job_id,slurm_array_task_id,slurm_restart_count,comment,args,git,"
    "tags.team,config.lr,config.note,config.seed,result.loss,result.val_acc";

class ExportTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  void SetUp() override {
    test::setup_metric_columns(db_);
    auto db = db_.connect();
    test::insert_runs(*db);
    const std::vector<db::Value> git{std::string(kRunOneGit)};
    db->query("UPDATE runs SET git = $1 WHERE id = 1", git);
  }

  CommandResult export_runs(std::vector<std::string> args) const {
    args.insert(args.begin(), "export");
    return test::sqltrack_cli(db_, args);
  }

  // The export's standard output, or a failure with its error.
  std::string exported(std::vector<std::string> args) const {
    auto result = export_runs(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err, "");
    return result.out;
  }

  std::vector<std::string> run_ids(std::vector<std::string> args) const {
    std::vector<std::string> ids;
    for (auto& row : csv_rows(exported(std::move(args)))) ids.push_back(row["run_id"]);
    return ids;
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(ExportTest, CsvIsOneRowPerRunWithLastMetricValues) {
  EXPECT_EQ(
      exported({"-e", "sweep"}),
      lines({kSummaryHeader,
             "1,sweep,COMPLETED,2026-01-02 10:00:00.000000+00:00,"
             "2026-01-02 10:05:30.500000+00:00,330.5,0,,node1,4242,,,,first run,"
             "\"[\"\"python\"\",\"\"train.py\"\",\"\"--name\"\",\"\"x,\\\"\"y\\\"\"\\nz\"\"]\","
             "\"{\"\"branch\"\":\"\"main\"\",\"\"commit\"\":"
             "\"\"0123456789abcdef0123456789abcdef01234567\"\","
             "\"\"dirty\"\":false,\"\"remote\"\":\"\"https://example.com/lab/models.git\"\"}\","
             "vision,0.1,\"a, \"\"quoted\"\"\nvalue\",,0.3,0.8",
             "2,sweep,FAILED,2026-01-02 11:00:00.000000+00:00,2026-01-02 11:01:00.000000+00:00,"
             "60.0,1,,node2,,,,,,\"[\"\"python\"\",\"\"train.py\"\"]\",,vision,0.01,,,1.5,",
             "3,sweep,RUNNING,2026-01-02 12:00:00.000000+00:00,,,,,node1,,,,,,"
             "\"[\"\"python\"\"]\",,vision,0.001,,7,,"},
            "\r\n"));
}

TEST_P(ExportTest, JsonLinesAreOneObjectPerRunWithNumbersAndNulls) {
  EXPECT_EQ(
      exported({"-e", "sweep", "--format", "json"}),
      lines({R"({"run_id":1,"experiment":"sweep","status":"COMPLETED",)"
             R"("ts_start":"2026-01-02 10:00:00.000000+00:00",)"
             R"("ts_end":"2026-01-02 10:05:30.500000+00:00","duration_seconds":330.5,)"
             R"("exit_code":0,"signal":null,"hostname":"node1","slurm_job_id":4242,)"
             R"("slurm_array_job_id":null,"slurm_array_task_id":null,"slurm_restart_count":null,)"
             R"("comment":"first run","args":["python","train.py","--name","x,\"y\"\nz"],)"
             R"("git":{"branch":"main","commit":"0123456789abcdef0123456789abcdef01234567",)"
             R"("dirty":false,"remote":"https://example.com/lab/models.git"},)"
             R"("tags.team":"vision","config.lr":"0.1","config.note":"a, \"quoted\"\nvalue",)"
             R"("config.seed":null,"result.loss":0.3,"result.val_acc":0.8})",
             R"({"run_id":2,"experiment":"sweep","status":"FAILED",)"
             R"("ts_start":"2026-01-02 11:00:00.000000+00:00",)"
             R"("ts_end":"2026-01-02 11:01:00.000000+00:00","duration_seconds":60.0,)"
             R"("exit_code":1,"signal":null,"hostname":"node2","slurm_job_id":null,)"
             R"("slurm_array_job_id":null,"slurm_array_task_id":null,"slurm_restart_count":null,)"
             R"("comment":null,"args":["python","train.py"],"git":null,)"
             R"("tags.team":"vision","config.lr":"0.01","config.note":null,)"
             R"("config.seed":null,"result.loss":1.5,"result.val_acc":null})",
             R"({"run_id":3,"experiment":"sweep","status":"RUNNING",)"
             R"("ts_start":"2026-01-02 12:00:00.000000+00:00",)"
             R"("ts_end":null,"duration_seconds":null,)"
             R"("exit_code":null,"signal":null,"hostname":"node1","slurm_job_id":null,)"
             R"("slurm_array_job_id":null,"slurm_array_task_id":null,"slurm_restart_count":null,)"
             R"("comment":null,"args":["python"],"git":null,)"
             R"("tags.team":"vision","config.lr":"0.001","config.note":null,)"
             R"("config.seed":"7","result.loss":null,"result.val_acc":null})"},
            "\n"));
}

TEST_P(ExportTest, CommasQuotesAndNewlinesSurviveARoundTrip) {
  const std::string note = "a, \"quoted\"\nvalue";
  const std::string last_arg = "x,\"y\"\nz";
  auto rows = csv_rows(exported({"-e", "sweep"}));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["config.note"], note);
  auto args = nlohmann::json::parse(rows[0]["args"]);
  EXPECT_EQ(args, (nlohmann::json{"python", "train.py", "--name", last_arg}));

  std::istringstream json_lines(exported({"-e", "sweep", "--format", "json"}));
  std::string line;
  ASSERT_TRUE(std::getline(json_lines, line));
  auto first = nlohmann::json::parse(line);
  EXPECT_EQ(first["config.note"], note);
  EXPECT_EQ(first["args"].back(), last_arg);
}

TEST_P(ExportTest, MinAndMaxSummarizeEachMetricOverTheRunsRows) {
  auto min = csv_rows(exported({"-e", "sweep", "--metrics", "min"}));
  auto max = csv_rows(exported({"-e", "sweep", "--metrics", "max"}));
  ASSERT_EQ(min.size(), 3u);
  ASSERT_EQ(max.size(), 3u);
  EXPECT_EQ(min[0]["result.loss"], "0.25");
  EXPECT_EQ(min[0]["result.val_acc"], "0.6");
  EXPECT_EQ(max[0]["result.loss"], "1.0");
  EXPECT_EQ(max[0]["result.val_acc"], "0.8");
  EXPECT_EQ(min[1]["result.loss"], "1.5");
  EXPECT_EQ(max[1]["result.loss"], "2.0");
  EXPECT_EQ(max[1]["result.val_acc"], "") << "a metric the run never wrote is NULL";
  EXPECT_EQ(min[2]["result.loss"], "") << "a run without metric rows";
  EXPECT_EQ(max[2]["config.seed"], "7");
}

TEST_P(ExportTest, MetricsAllIsTheLongTableOfEveryRow) {
  EXPECT_EQ(exported({"-e", "sweep", "--metrics", "all"}),
            lines({"run_id,step,progress,loss,val_acc", "1,0,0.0,1.0,", "1,1,0.25,0.5,0.6",
                   "1,2,0.5,0.25,0.8", "1,3,0.75,0.3,", "2,0,0.0,2.0,", "2,5,1.0,1.5,"},
                  "\r\n"));
  EXPECT_EQ(exported({"-e", "other", "--metrics", "all", "--format", "json"}),
            R"({"run_id":4,"step":0,"progress":0.0,"loss":9.0,"val_acc":0.125})"
            "\n");
}

TEST_P(ExportTest, StatusFilterKeepsTheRunsWithThoseStatuses) {
  EXPECT_EQ(run_ids({"--status", "completed", "--status", "FAILED"}),
            (std::vector<std::string>{"1", "2", "4"}));
  EXPECT_EQ(run_ids({"-e", "sweep", "--status", "RUNNING"}), (std::vector<std::string>{"3"}));
  EXPECT_EQ(run_ids({"--status", "TIMEOUT"}), (std::vector<std::string>{}));
  EXPECT_EQ(exported({"--status", "TIMEOUT", "--format", "json"}), "") << "no run, no line";
}

TEST_P(ExportTest, SeveralExperimentsAndTheirTagsAndConfigColumns) {
  auto rows = csv_rows(exported({"-e", "other", "-e", "sweep"}));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["run_id"], "1");
  EXPECT_EQ(rows[3]["run_id"], "4");
  EXPECT_EQ(rows[3]["experiment"], "other");
  EXPECT_EQ(rows[3]["tags.team"], "") << "experiment 'other' has no tags";
  EXPECT_EQ(rows[3]["config.opt"], "adam");
  EXPECT_EQ(rows[3]["config.lr"], "");
  EXPECT_EQ(rows[3]["duration_seconds"], "2.25");
  EXPECT_EQ(rows[3]["result.val_acc"], "0.125");
  EXPECT_EQ(rows[0]["config.opt"], "");
  EXPECT_EQ(csv_rows(exported({})).size(), 4u) << "no -e: every experiment";
}

TEST_P(ExportTest, UnknownExperimentIsOneLineAndExitOne) {
  auto result = export_runs({"-e", "sweep", "-e", "nope"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "sqltrack: error: no experiment named \"nope\" (experiments: other, sweep)\n");
  EXPECT_EQ(result.out, "");
}

TEST_P(ExportTest, BadFlagValuesAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--status", "DONE"}, {"--format", "xml"}, {"--metrics", "mean"}, {"--bogus"}}) {
    auto result = export_runs(args);
    EXPECT_EQ(result.exit_code, 2) << args[0] << ": " << result.err;
    EXPECT_NE(result.err.find("sqltrack: error: "), std::string::npos) << result.err;
  }
  EXPECT_NE(export_runs({"--status", "DONE"}).err.find("got 'DONE'"), std::string::npos);
}

TEST_P(ExportTest, OutputFileGetsTheTableAndAnUnwritablePathIsOneLine) {
  auto written = export_runs({"-e", "sweep", "-o", "runs.json", "--format", "json"});
  ASSERT_EQ(written.exit_code, 0) << written.err;
  EXPECT_EQ(written.out, "export: 3 rows written to runs.json\n");
  EXPECT_EQ(test::read_file(db_.cwd() / "runs.json"),
            exported({"-e", "sweep", "--format", "json"}));

  auto unwritable = export_runs({"-o", "no/such/dir/runs.csv"});
  EXPECT_EQ(unwritable.exit_code, 1);
  EXPECT_EQ(unwritable.err,
            "sqltrack: error: cannot write 'no/such/dir/runs.csv': No such file or directory\n");

  auto failed = export_runs({"-e", "nope", "-o", "partial.csv"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(db_.cwd() / "partial.csv"))
      << "a failed export leaves no file behind";
}

TEST(ExportSqlite, MissingDatabaseFileIsAnErrorAndIsNotCreated) {
  test::TempDir dir;
  test::CommandOptions options;
  options.cwd = dir.path();
  auto result = test::run_command({SQLTRACK_BIN, "export"}, options);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "sqltrack: error: no database at sqltrack.db: this command only reads, `sqltrack "
            "setup` creates one (settings from the defaults)\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "sqltrack.db"));
}

INSTANTIATE_TEST_SUITE_P(Engines, ExportTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

struct Measured {
  int exit_code = -1;
  long max_rss_kib = 0;
};

// Runs argv with stdout and stderr to /dev/null and returns its own peak RSS (wait4), not
// that of any other child. ASan's quarantine of freed memory would grow with the row count
// and hide what the program itself holds, so it is turned off for this child.
Measured run_measured(const std::vector<std::string>& argv, const std::filesystem::path& cwd) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::string asan = "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
  if (const char* given = std::getenv("ASAN_OPTIONS")) asan = std::string(given) + ":" + asan;
  pid_t pid = fork();
  if (pid == 0) {
    setenv("ASAN_OPTIONS", asan.c_str(), 1);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    execv(args[0], args.data());
    _exit(127);
  }
  Measured measured;
  int status = 0;
  rusage usage{};
  if (pid > 0 && wait4(pid, &status, 0, &usage) == pid) {
    measured.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    measured.max_rss_kib = usage.ru_maxrss;
  }
  return measured;
}

// 100 000 metric rows through a PostgreSQL cursor: the exporter's peak memory is that of an
// export of 1 000 rows, where holding the rows would take more than the file they make
// (bench/export_memory.sh does the same for 1 000 000 rows).
TEST(ExportStreaming, MemoryDoesNotGrowWithTheRowsOnPostgres) {
  EngineDatabase db(db::Engine::postgres);
  test::setup_metric_columns(db);
  auto conn = db.connect();
  conn->execute(
      "INSERT INTO experiments (name) VALUES ('small'), ('large');"
      "INSERT INTO runs (experiment_id, status) VALUES (1, 'COMPLETED'), (2, 'COMPLETED');"
      "INSERT INTO metrics (run_id, step, progress, loss, val_acc) "
      "SELECT 1, g, g / 1000.0, g * 0.5, g * 0.25 FROM generate_series(0, 999) AS g;"
      "INSERT INTO metrics (run_id, step, progress, loss, val_acc) "
      "SELECT 2, g, g / 100000.0, g * 0.5, g * 0.25 FROM generate_series(0, 99999) AS g;");
  auto measure = [&](const std::string& experiment) {
    std::vector<std::string> argv{SQLTRACK_BIN};
    auto flags = db.cli_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(),
                {"export", "-e", experiment, "--metrics", "all", "-o", experiment + ".csv"});
    Measured measured = run_measured(argv, db.cwd());
    EXPECT_EQ(measured.exit_code, 0) << experiment;
    return measured.max_rss_kib;
  };
  long small = measure("small");
  long large = measure("large");
  auto large_bytes = std::filesystem::file_size(db.cwd() / "large.csv");
  std::string large_text = test::read_file(db.cwd() / "large.csv");
  EXPECT_EQ(std::count(large_text.begin(), large_text.end(), '\n'), 100001);
  EXPECT_TRUE(large_text.ends_with("\r\n2,99999,0.99999,49999.5,24999.75\r\n"))
      << large_text.substr(large_text.size() - 100);
  // 100 000 rows make ~3.5 MB of CSV; kept as rows they would take several times that.
  EXPECT_GT(large_bytes, 3u << 20);
  EXPECT_LT(large - small, 2048) << "peak RSS " << small << " KiB for 1 000 rows, " << large
                                 << " KiB for 100 000 rows";
}

}  // namespace
}  // namespace sqltrack
