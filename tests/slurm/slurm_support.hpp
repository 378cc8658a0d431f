#pragma once
// Helpers for tests that submit real jobs to the test cluster
// (scripts/start-slurm.sh; SLURM_CONF names it).

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "support/test_support.hpp"

namespace sqltrack::test {

// A job id as sbatch prints it ("12"), as the number the runs table stores.
inline std::int64_t job_number(const std::string& job) {
  return std::stoll(job);
}

class SlurmJobTest : public ::testing::Test {
 protected:
  // The database's engine; the jobs find it through a sqltrack.conf (or the
  // SQLite file) in their working directory, job_dir().
  virtual db::Engine engine() const { return db::Engine::sqlite; }

  void SetUp() override;
  void TearDown() override;  // cancels every job the test submitted

  const std::filesystem::path& job_dir() const { return db_->cwd(); }

  // Writes `script` to a file and submits it with `sbatch --parsable ARGS
  // FILE` from job_dir(), with the build's executables first on PATH. Output
  // goes to job_dir()/JOBID.out unless ARGS or the script's #SBATCH --output
  // say otherwise. Returns the job id.
  std::string sbatch(const std::vector<std::string>& args, const std::string& script);
  // Submits an existing script file the same way.
  std::string sbatch_file(const std::vector<std::string>& args, const std::string& path);
  // Remembers a job submitted another way, to cancel it at the end.
  void track_job(const std::string& job_id) { jobs_.push_back(job_id); }

  // `sqltrack ARGS` / `sqltrack-run ARGS`, from job_dir().
  CommandResult sqltrack(const std::vector<std::string>& args) const;
  CommandResult sqltrack_run(const std::vector<std::string>& args) const;
  // Slurm's command-line tools, with the test's environment.
  CommandResult slurm(const std::vector<std::string>& argv) const;

  // The single value of a query (NULL as "<NULL>", no row as "<none>").
  std::string scalar(const std::string& sql, std::vector<db::Value> params = {});
  // Polls (every 20 ms) until the query returns `expected`, or the timeout passes.
  bool wait_for_value(const std::string& sql, std::vector<db::Value> params,
                      const std::string& expected,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Slurm's JobState for a job ("12" or "12_3"), "" when it has no record.
  std::string job_state(const std::string& job_id) const;
  bool wait_for_job_state(const std::string& job_id, const std::string& state,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  std::string job_output(const std::string& file_name) const;

  std::unique_ptr<EngineDatabase> db_;
  std::unique_ptr<db::Database> conn_;
  std::vector<std::string> jobs_;
};

class SlurmJobPostgresTest : public SlurmJobTest {
 protected:
  db::Engine engine() const override { return db::Engine::postgres; }
};

}  // namespace sqltrack::test
