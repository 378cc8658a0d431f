// `sqltrack doctor` on the test cluster: Slurm answers and its Epilog is slurm/epilog.sh
// (scripts/start-slurm.sh installs it so), so every check passes on both engines.
#include <gtest/gtest.h>

#include "slurm/slurm_support.hpp"

namespace sqltrack {
namespace {

using test::SlurmJobPostgresTest;
using test::SlurmJobTest;

// Doctor in the job directory, with journals of its own (the suite's may hold others').
void expect_every_check_passes(const std::filesystem::path& job_dir) {
  test::TempDir state;
  auto result = test::run_command(
      {SQLTRACK_BIN, "doctor"},
      {.cwd = job_dir, .env = {{"XDG_STATE_HOME", state.path().string()}}, .stdin_text = {}});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("\nok   slurm        found scontrol"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(" is UP\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\nok   epilog       Epilog=" SQLTRACK_SOURCE_DIR
                            "/slurm/epilog.sh runs sqltrack slurm-sync after each job\n"),
            std::string::npos)
      << result.out;
}

TEST_F(SlurmJobTest, DoctorFindsSlurmAndItsEpilog) {
  expect_every_check_passes(job_dir());
}

TEST_F(SlurmJobPostgresTest, DoctorFindsSlurmAndItsEpilog) {
  expect_every_check_passes(job_dir());
}

}  // namespace
}  // namespace sqltrack
