#include "slurm/slurm_support.hpp"

#include <cstdlib>
#include <filesystem>

#include "sqltrack/slurm/slurm_job_state.hpp"

namespace sqltrack::test {

namespace {

std::string bin_path() {
  std::string dirs = std::filesystem::path(SQLTRACK_BIN).parent_path().string();
  if (dirs != std::filesystem::path(SQLTRACK_RUN_BIN).parent_path().string()) {
    dirs += ":" + std::filesystem::path(SQLTRACK_RUN_BIN).parent_path().string();
  }
  const char* path = std::getenv("PATH");
  return dirs + ":" + (path ? path : "/usr/bin:/bin");
}

}  // namespace

void SlurmJobTest::SetUp() {
  // Fails (not skips) without a cluster: scripts/test.sh starts one for this group.
  required_env("SLURM_CONF");
  auto sinfo = run_command({"sinfo", "-h", "-o", "%a"});
  ASSERT_EQ(sinfo.exit_code, 0) << "the test cluster is not up (scripts/start-slurm.sh): "
                                << sinfo.err;
  db_ = std::make_unique<EngineDatabase>(engine());
  if (engine() == db::Engine::postgres) {
    // -a 127.0.0.1:PORT -u USER -d NAME, as sqltrack.conf keys.
    auto flags = db_->cli_flags();
    std::string conf;
    for (std::size_t i = 0; i + 1 < flags.size(); i += 2) {
      const std::string& value = flags[i + 1];
      if (flags[i] == "-a") {
        auto colon = value.rfind(':');
        conf += "host = " + value.substr(0, colon) + "\nport = " + value.substr(colon + 1) + "\n";
      } else if (flags[i] == "-u") {
        conf += "user = " + value + "\n";
      } else if (flags[i] == "-d") {
        conf += "dbname = " + value + "\n";
      }
    }
    write_file(job_dir() / "sqltrack.conf", conf);
  }
  // The schema exists before the first job, as after `sqltrack setup`.
  auto setup = sqltrack({"setup"});
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  conn_ = db_->connect();
}

void SlurmJobTest::TearDown() {
  if (!jobs_.empty()) {
    std::vector<std::string> argv{"scancel"};
    argv.insert(argv.end(), jobs_.begin(), jobs_.end());
    run_command(argv);
    // Jobs that outlive the test would take the CPUs of the next one.
    for (const auto& job : jobs_) {
      wait_until([&] {
        auto state = job_state(job);
        return state.empty() || state == "CANCELLED" || state == "COMPLETED" || state == "FAILED" ||
               state == "TIMEOUT" || state == "PREEMPTED";
      });
    }
  }
  conn_.reset();
}

std::string SlurmJobTest::sbatch(const std::vector<std::string>& args, const std::string& script) {
  static int count = 0;
  auto path = job_dir() / ("job" + std::to_string(++count) + ".sh");
  write_file(path, script);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add);
  return sbatch_file(args, path.string());
}

std::string SlurmJobTest::sbatch_file(const std::vector<std::string>& args,
                                      const std::string& path) {
  std::vector<std::string> argv{"sbatch", "--parsable", "-D", job_dir().string()};
  // A script's own #SBATCH --output stays (the examples are tested as written).
  bool has_output = read_file(path).find("#SBATCH --output") != std::string::npos;
  for (const auto& arg : args) {
    if (arg.starts_with("-o") || arg.starts_with("--output")) has_output = true;
  }
  if (!has_output) argv.push_back("--output=" + (job_dir() / "%j.out").string());
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(path);
  auto result = slurm(argv);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::string job_id = result.out.substr(0, result.out.find_first_of(";\n"));
  if (!job_id.empty()) jobs_.push_back(job_id);
  return job_id;
}

CommandResult SlurmJobTest::sqltrack(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{SQLTRACK_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return slurm(argv);
}

CommandResult SlurmJobTest::sqltrack_run(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{SQLTRACK_RUN_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return slurm(argv);
}

CommandResult SlurmJobTest::slurm(const std::vector<std::string>& argv) const {
  CommandOptions options;
  options.cwd = job_dir();
  options.env["PATH"] = bin_path();
  return run_command(argv, options);
}

std::string SlurmJobTest::scalar(const std::string& sql, std::vector<db::Value> params) {
  auto result = conn_->query(sql, params);
  if (result.empty()) return "<none>";
  return result.rows[0][0].value_or("<NULL>");
}

bool SlurmJobTest::wait_for_value(const std::string& sql, std::vector<db::Value> params,
                                  const std::string& expected, std::chrono::milliseconds timeout) {
  std::string last;
  bool reached = wait_until(
      [&] {
        last = scalar(sql, params);
        return last == expected;
      },
      timeout);
  if (!reached) ADD_FAILURE() << sql << ": still '" << last << "', waited for '" << expected << "'";
  return reached;
}

std::string SlurmJobTest::job_state(const std::string& job_id) const {
  auto result = run_command({"scontrol", "show", "job", "-o", job_id});
  auto state = find_job_state(parse_scontrol_records(result.out), job_id);
  return state ? state->state : "";
}

bool SlurmJobTest::wait_for_job_state(const std::string& job_id, const std::string& state,
                                      std::chrono::milliseconds timeout) const {
  std::string last;
  bool reached = wait_until(
      [&] {
        last = job_state(job_id);
        return last == state;
      },
      timeout);
  if (!reached) ADD_FAILURE() << "job " << job_id << " is " << last << ", waited for " << state;
  return reached;
}

std::string SlurmJobTest::job_output(const std::string& file_name) const {
  auto path = job_dir() / file_name;
  return std::filesystem::exists(path) ? read_file(path) : "";
}

}  // namespace sqltrack::test
