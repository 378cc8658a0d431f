// Resource sampling end to end: sqltrack-run --sample writes run_resources rows of the
// command's process tree, on both engines. The end-to-end tests expect GPU rows and runs.gpus
// exactly when the host shows GPUs (counted by nvidia-smi, not by the wrapper's own probe); the
// GPU rows themselves are also written through the same functions the wrapper uses, with
// readings made up, so they are checked on a host without one too.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "sqltrack/monitor/resource_store.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/store/store.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::EngineDatabase;

// Two busy loops for 1.5 s while the command itself sleeps: the CPU use is its children's.
// The shell reaps them, so the run's cpu_user_seconds + cpu_system_seconds hold their time.
const std::string kBusyCommand =
    "while :; do :; done & a=$!; while :; do :; done & b=$!; sleep 1.5; kill $a $b; wait";

// The GPUs this host shows, as `nvidia-smi -L` lists them; 0 without nvidia-smi or a driver.
int host_gpu_count() {
  auto listed =
      test::run_command({"sh", "-c", "command -v nvidia-smi >/dev/null && nvidia-smi -L"});
  if (listed.exit_code != 0) return 0;
  int count = 0;
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("GPU ", 0) == 0) ++count;
  }
  return count;
}

struct HostRow {
  double cpu_percent = 0;
  std::int64_t rss_bytes = 0;
  std::int64_t processes = 0;
  double interval_seconds = 0;
};

class ResourceSamplingTest : public ::testing::TestWithParam<db::Engine> {
 protected:
  CommandResult wrap(std::vector<std::string> flags, std::vector<std::string> command) const {
    test::CommandOptions options;
    options.cwd = db_.cwd();
    return test::run_command(db_.wrapper_argv(std::move(flags), std::move(command)), options);
  }

  std::int64_t last_run_id() const {
    auto id = db_.connect()->query("SELECT max(id) FROM runs", {}).scalar();
    return id ? std::stoll(*id) : -1;
  }

  std::vector<HostRow> host_rows(std::int64_t run_id) const {
    const std::array<db::Value, 1> params{run_id};
    auto result = db_.connect()->query(
        "SELECT cpu_percent, rss_bytes, processes, interval_seconds FROM run_resources "
        "WHERE run_id = $1 AND gpu_index IS NULL ORDER BY time",
        params);
    std::vector<HostRow> rows;
    for (const auto& row : result.rows) {
      rows.push_back({std::stod(row[0].value_or("-1")), std::stoll(row[1].value_or("-1")),
                      std::stoll(row[2].value_or("-1")), std::stod(row[3].value_or("-1"))});
    }
    return rows;
  }

  std::string count_rows(std::int64_t run_id) const {
    const std::array<db::Value, 1> params{run_id};
    return db_.connect()
        ->query("SELECT count(*) FROM run_resources WHERE run_id = $1", params)
        .scalar()
        .value_or("<NULL>");
  }

  std::optional<std::string> gpus_of(std::int64_t run_id) const {
    const std::array<db::Value, 1> params{run_id};
    return db_.connect()->query("SELECT gpus FROM runs WHERE id = $1", params).scalar();
  }

  // GPU rows and runs.gpus exactly when the host shows GPUs: one row per GPU in the samples
  // from the second on (GPUs are looked for at the first).
  void expect_gpu_facts(std::int64_t run_id, std::size_t host_rows) const {
    const int gpus = host_gpu_count();
    const std::array<db::Value, 1> params{run_id};
    auto gpu_rows = db_.connect()
                        ->query(
                            "SELECT count(*), count(DISTINCT gpu_index), min(gpu_index), "
                            "max(gpu_index) FROM run_resources "
                            "WHERE run_id = $1 AND gpu_index IS NOT NULL",
                            params)
                        .rows.at(0);
    auto facts = gpus_of(run_id);
    if (gpus == 0) {
      EXPECT_EQ(gpu_rows[0], "0") << "GPU rows on a host without a GPU";
      EXPECT_FALSE(facts.has_value()) << "runs.gpus on a host without a GPU: " << *facts;
      return;
    }
    ASSERT_TRUE(facts.has_value()) << "the host shows " << gpus << " GPUs; runs.gpus is NULL";
    auto listed = nlohmann::json::parse(*facts);
    EXPECT_EQ(listed.size(), static_cast<std::size_t>(gpus)) << *facts;
    for (const auto& gpu : listed) EXPECT_FALSE(gpu.value("name", "").empty()) << *facts;
    ASSERT_GE(host_rows, 2u) << "GPU rows start with the second sample";
    EXPECT_EQ(gpu_rows[1], std::to_string(gpus)) << "every GPU has rows";
    EXPECT_EQ(gpu_rows[2], "0");
    EXPECT_EQ(gpu_rows[3], std::to_string(gpus - 1));
    EXPECT_LE(std::stoul(gpu_rows[0].value_or("0")), (host_rows - 1) * gpus)
        << "at most one row per GPU and sample";
  }

  // CPU seconds the rows account for.
  static double sampled_cpu_seconds(const std::vector<HostRow>& rows) {
    double seconds = 0;
    for (const auto& row : rows) seconds += row.cpu_percent * row.interval_seconds / 100;
    return seconds;
  }

  static std::string describe(const std::vector<HostRow>& rows) {
    std::string text;
    for (const auto& row : rows) {
      text += " [cpu " + std::to_string(row.cpu_percent) + " %, rss " +
              std::to_string(row.rss_bytes) + ", " + std::to_string(row.processes) + " processes]";
    }
    return text;
  }

  EngineDatabase db_{GetParam()};
};

TEST_P(ResourceSamplingTest, SamplesCpuAndMemoryOfTheCommandsProcesses) {
  auto result = wrap({"-e", "sampling", "--sample", "0.2"}, {"sh", "-c", kBusyCommand});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "") << "sampling has nothing to say";
  std::int64_t run_id = last_run_id();

  auto rows = host_rows(run_id);
  ASSERT_GE(rows.size(), 3u) << "a 1.5 s command sampled every 0.2 s:" << describe(rows);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_GT(rows[i].interval_seconds, 0.0);
    // A sample may catch the very end, every process exited and not yet reaped: the CPU
    // time of the interval is there, no process and no memory.
    if (i + 1 == rows.size() && rows[i].processes == 0) continue;
    EXPECT_GT(rows[i].rss_bytes, 0) << "row " << i << ":" << describe(rows);
    EXPECT_GE(rows[i].processes, 1) << "row " << i << ":" << describe(rows);
  }
  std::int64_t most_processes = 0;
  for (const auto& row : rows) most_processes = std::max(most_processes, row.processes);
  EXPECT_GE(most_processes, 3) << "the shell and its two loops:" << describe(rows);
  // What the samples add up to against what the kernel reported for the whole run when the
  // command was reaped (the busy loops included): all of it but the unsampled last moments.
  // Compared so, the check holds however loaded the machine is.
  const std::array<db::Value, 1> params{run_id};
  auto total_text = db_.connect()
                        ->query(
                            "SELECT cpu_user_seconds + cpu_system_seconds FROM runs "
                            "WHERE id = $1",
                            params)
                        .scalar();
  ASSERT_TRUE(total_text.has_value()) << "the run has no CPU time";
  const double total = std::stod(*total_text);
  const double sampled = sampled_cpu_seconds(rows);
  ASSERT_GT(total, 0.1) << "the busy loops hardly ran";
  EXPECT_GE(sampled, 0.5 * total) << "the rows account for " << sampled << " of " << total
                                  << " CPU seconds:" << describe(rows);
  EXPECT_LE(sampled, total + 0.05)
      << "the rows account for " << sampled << " of " << total << " CPU seconds:" << describe(rows);
  expect_gpu_facts(run_id, rows.size());
}

TEST_P(ResourceSamplingTest, AnOrphanThatLeftTheProcessGroupIsSampled) {
  // The busy loop leaves the command's process group (setsid) and its parent exits: it is
  // reparented to the wrapper, and still the job's. The command itself only sleeps.
  auto result =
      wrap({"--sample", "0.2"}, {"sh", "-c", "(setsid sh -c 'while :; do :; done' &); sleep 1.2"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto rows = host_rows(last_run_id());
  // A shell and a sleep use a few milliseconds; the orphan a good share of 1.2 s.
  EXPECT_GT(sampled_cpu_seconds(rows), 0.1)
      << "the orphan's busy loop was not sampled:" << describe(rows);
}

TEST_P(ResourceSamplingTest, SampleZeroWritesNoRows) {
  auto result = wrap({"--sample", "0"}, {"sh", "-c", "sleep 0.6"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count_rows(last_run_id()), "0");
}

TEST_P(ResourceSamplingTest, TheSettingSampleIntervalIsUsed) {
  test::write_file(db_.cwd() / "sqltrack.conf", "sample_interval = 0.1\n");
  auto result = wrap({}, {"sh", "-c", "sleep 0.8"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_GE(host_rows(last_run_id()).size(), 2u);
  // The flag wins over the setting.
  result = wrap({"--sample", "0"}, {"sh", "-c", "sleep 0.5"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count_rows(last_run_id()), "0");
}

TEST_P(ResourceSamplingTest, GpuReadingsAndFactsAreStored) {
  auto conn = db_.connect();
  ensure_schema(*conn);
  RunStart start;
  start.experiment = "gpu-store";
  std::int64_t run_id = RunStore(*conn).start_run(start).run_id;

  ResourceSample sample;
  sample.time = std::chrono::system_clock::now();
  sample.host = {.interval_seconds = 10,
                 .cpu_percent = 187.5,
                 .rss_bytes = 123456789,
                 .read_bytes = 4096,
                 .write_bytes = 8192,
                 .processes = 4};
  sample.gpus = {
      {.index = 0, .util_percent = 93, .memory_used_bytes = 1ULL << 34, .time = sample.time},
      {.index = 1,
       .util_percent = std::nullopt,
       .memory_used_bytes = std::nullopt,
       .time = sample.time}};
  insert_resource_sample(*conn, run_id, sample);
  store_run_gpus(*conn, run_id,
                 {{0, "NVIDIA A100-SXM4-80GB", "535.104.05", 85899345920ULL},
                  {1, "NVIDIA A100-SXM4-80GB", "535.104.05", std::nullopt}});

  const std::array<db::Value, 1> params{run_id};
  auto rows = conn->query(
      "SELECT gpu_index, cpu_percent, rss_bytes, read_bytes, write_bytes, processes, "
      "gpu_util_percent, gpu_memory_bytes, interval_seconds FROM run_resources WHERE run_id = $1 "
      "ORDER BY gpu_index IS NOT NULL, gpu_index",
      params);
  ASSERT_EQ(rows.size(), 3u);
  using Row = std::vector<std::optional<std::string>>;
  auto number = [](const std::optional<std::string>& text) {
    return text ? std::optional<double>(std::stod(*text)) : std::nullopt;
  };
  const Row& host = rows.rows[0];
  EXPECT_FALSE(host[0].has_value()) << "the host row has no gpu_index";
  EXPECT_EQ(number(host[1]), std::optional<double>(187.5));
  EXPECT_EQ(host[2], "123456789");
  EXPECT_EQ(host[3], "4096");
  EXPECT_EQ(host[4], "8192");
  EXPECT_EQ(host[5], "4");
  EXPECT_FALSE(host[6].has_value());
  EXPECT_FALSE(host[7].has_value());
  EXPECT_EQ(number(host[8]), std::optional<double>(10));
  const Row& gpu0 = rows.rows[1];
  EXPECT_EQ(gpu0[0], "0");
  EXPECT_FALSE(gpu0[1].has_value()) << "a GPU row has no process columns";
  EXPECT_FALSE(gpu0[2].has_value());
  EXPECT_EQ(number(gpu0[6]), std::optional<double>(93));
  EXPECT_EQ(gpu0[7], std::to_string(1ULL << 34));
  const Row& gpu1 = rows.rows[2];
  EXPECT_EQ(gpu1[0], "1");
  EXPECT_FALSE(gpu1[6].has_value()) << "a utilization the GPU did not report is NULL";
  EXPECT_FALSE(gpu1[7].has_value());

  auto gpus = conn->query("SELECT gpus FROM runs WHERE id = $1", params).scalar();
  ASSERT_TRUE(gpus.has_value());
  EXPECT_EQ(nlohmann::json::parse(*gpus), nlohmann::json::parse(R"([
      {"index": 0, "name": "NVIDIA A100-SXM4-80GB", "driver": "535.104.05",
       "memory_total": 85899345920},
      {"index": 1, "name": "NVIDIA A100-SXM4-80GB", "driver": "535.104.05",
       "memory_total": null}])"));
}

INSTANTIATE_TEST_SUITE_P(Engines, ResourceSamplingTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

TEST(ResourceSamplingFlags, ABadSampleValueIsAUsageError) {
  test::TempDir dir;
  test::CommandOptions options;
  options.cwd = dir.path();
  for (const char* bad : {"--sample=-1", "--sample=abc", "--sample=0.001"}) {
    auto result = test::run_command({SQLTRACK_RUN_BIN, bad, "--", "true"}, options);
    EXPECT_EQ(result.exit_code, 2) << bad << ": " << result.err;
    EXPECT_NE(result.err.find("sample"), std::string::npos)
        << bad << ": the message must name the flag: " << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "sqltrack.db"))
      << "a usage error must come before anything starts";
}

}  // namespace
}  // namespace sqltrack
