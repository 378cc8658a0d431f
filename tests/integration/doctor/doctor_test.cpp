// `sqltrack doctor` as a user runs it: one line per check, each failure with what to do, exit 1
// when any check failed. It only looks: nothing is created, migrated or changed.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "sqltrack/doctor/doctor.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::CommandResult;
using test::TempDir;

using EnvChanges = std::map<std::string, std::optional<std::string>>;

// A place to run doctor: a working directory, a journal directory under state/ and a PATH
// without Slurm's tools (bin/, empty unless a test puts something there).
class DoctorPlace {
 public:
  explicit DoctorPlace(const std::filesystem::path& cwd) : cwd_(cwd) {
    std::filesystem::create_directories(bin());
  }
  std::filesystem::path bin() const { return cwd_ / "bin"; }
  std::filesystem::path state() const { return cwd_ / "state"; }
  std::filesystem::path journal_dir() const { return state() / "sqltrack"; }

  CommandResult doctor(const std::vector<std::string>& flags, EnvChanges env = {}) const {
    std::vector<std::string> argv{SQLTRACK_BIN, "doctor"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    env.emplace("PATH", bin().string());
    env.emplace("XDG_STATE_HOME", state().string());
    env.emplace("SQLTRACK_CONFIG_PATH", std::nullopt);
    return test::run_command(argv, {.cwd = cwd_, .env = env, .stdin_text = {}});
  }

  CommandResult sqltrack(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{SQLTRACK_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_command(argv, {.cwd = cwd_, .env = {}, .stdin_text = {}});
  }

 private:
  std::filesystem::path cwd_;
};

// The line of check `name` ("FAIL schema  ...") and the indented lines under it.
std::string check_block(const std::string& out, const std::string& name) {
  std::istringstream lines(out);
  std::string block;
  bool inside = false;
  for (std::string line; std::getline(lines, line);) {
    const bool head = line.size() > 5 && line[4] == ' ' && line[5] != ' ';
    if (head) inside = line.substr(5, name.size() + 1) == name + " ";
    if (inside) block += line + "\n";
  }
  return block;
}

// Expects check `name` to read `label` ("ok  ", "FAIL", "skip", "warn") with `text` in its
// block.
void expect_check(const CommandResult& result, const std::string& label, const std::string& name,
                  const std::string& text = {}) {
  const std::string block = check_block(result.out, name);
  EXPECT_EQ(block.substr(0, 4), label) << "check " << name << " in:\n" << result.out;
  EXPECT_NE(block.find(text), std::string::npos)
      << "expected '" << text << "' in check " << name << ", got:\n"
      << block << "doctor said:\n"
      << result.out << result.err;
}

std::vector<std::string> with(std::vector<std::string> flags,
                              const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

class DoctorOnEngine : public ::testing::TestWithParam<db::Engine> {};

TEST_P(DoctorOnEngine, EveryCheckPassesOnADatabaseThatIsSetUp) {
  test::EngineDatabase database(GetParam());
  DoctorPlace place(database.cwd());
  ASSERT_EQ(place.sqltrack(with(database.cli_flags(), {"setup"})).exit_code, 0);
  CommandResult result = place.doctor(database.cli_flags());
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  const bool sqlite = GetParam() == db::Engine::sqlite;
  expect_check(result, "ok  ", "config", sqlite ? "engine = sqlite" : "engine = postgres");
  expect_check(result, "ok  ", "database", " answers");
  expect_check(result, "ok  ", "schema", "current: the ");
  expect_check(result, "ok  ", "add_columns", sqlite ? "on (default for SQLite)" : "off (default");
  expect_check(result, "ok  ", "journal", "does not exist yet");
  expect_check(result, sqlite ? "ok  " : "skip", "filesystem");
  expect_check(result, "skip", "slurm", "no Slurm tools on PATH");
  expect_check(result, "skip", "epilog");
  EXPECT_NE(result.out.find("doctor: every check passed"), std::string::npos) << result.out;
}

// An earlier build's schema: the newest migration not recorded. Doctor says so and leaves it.
TEST_P(DoctorOnEngine, ASchemaOlderThanTheBuildFailsAndStaysAsItIs) {
  test::EngineDatabase database(GetParam());
  DoctorPlace place(database.cwd());
  ASSERT_EQ(place.sqltrack(with(database.cli_flags(), {"setup"})).exit_code, 0);
  auto db = database.connect();
  const std::string newest =
      db->query("SELECT max(name) FROM applied_migrations WHERE name LIKE 'sqltrack/%'", {})
          .scalar()
          .value_or("");
  const std::array<db::Value, 1> name{newest};
  db->query("DELETE FROM applied_migrations WHERE name = $1", name);
  CommandResult result = place.doctor(database.cli_flags());
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  expect_check(result, "FAIL", "schema", "older than this build: 1 of its ");
  expect_check(result, "FAIL", "schema", newest);
  expect_check(result, "FAIL", "schema", "fix: run `sqltrack setup`");
  expect_check(result, "ok  ", "database");
  EXPECT_EQ(db->query("SELECT count(*) FROM applied_migrations WHERE name = $1", name).scalar(),
            "0")
      << "doctor applied " << newest;
}

INSTANTIATE_TEST_SUITE_P(Engines, DoctorOnEngine,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

TEST(Doctor, AnUnreachablePostgresFailsWithoutShowingThePassword) {
  TempDir dir;
  DoctorPlace place(dir.path());
  CommandResult result = place.doctor({"-a", "127.0.0.1:1", "-u", "alice", "-d", "experiments"},
                                      {{"SQLTRACK_DSN_PASSWORD", "hunter2-secret"}});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  expect_check(result, "ok  ", "config", "password = <redacted> (environment variable");
  expect_check(result, "FAIL", "database", "127.0.0.1");
  expect_check(result, "FAIL", "database", "fix: start the server");
  expect_check(result, "skip", "schema");
  expect_check(result, "skip", "filesystem", "PostgreSQL");
  EXPECT_EQ(result.out.find("hunter2"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("doctor: 1 of "), std::string::npos) << result.out;
}

TEST(Doctor, AMissingSqliteFileFailsAndIsNotCreated) {
  TempDir dir;
  DoctorPlace place(dir.path());
  CommandResult result = place.doctor({});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  expect_check(result, "FAIL", "database", "no database at sqltrack.db");
  expect_check(result, "FAIL", "database", "fix: run `sqltrack setup` to create it");
  expect_check(result, "skip", "schema", "no database");
  EXPECT_FALSE(std::filesystem::exists(dir / "sqltrack.db")) << "doctor created the database";
  EXPECT_FALSE(std::filesystem::exists(place.journal_dir())) << "doctor made the journal dir";
}

TEST(Doctor, AJournalDirectoryOthersMayReadFails) {
  TempDir dir;
  DoctorPlace place(dir.path());
  ASSERT_EQ(place.sqltrack({"setup"}).exit_code, 0);
  std::filesystem::create_directories(place.journal_dir());
  ::chmod(place.journal_dir().c_str(), 0755);
  CommandResult result = place.doctor({});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  expect_check(result, "FAIL", "journal", "is not private (mode 0755)");
  expect_check(result, "FAIL", "journal", "fix: chmod 700 '" + place.journal_dir().string() + "'");
  struct stat info {};
  ASSERT_EQ(::stat(place.journal_dir().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0755u) << "doctor changed the mode";
}

// A real journal: a run whose PostgreSQL never answered, left behind for `sqltrack sync`.
TEST(Doctor, JournalsLeftBehindFailWithSyncAsTheRemedy) {
  TempDir dir;
  DoctorPlace place(dir.path());
  ASSERT_EQ(place.sqltrack({"setup"}).exit_code, 0);
  CommandResult run = test::run_command(
      {SQLTRACK_RUN_BIN, "-a", "127.0.0.1:1", "-d", "away", "-e", "lost", "--", "true"},
      {.cwd = dir.path(),
       .env = {{"XDG_STATE_HOME", place.state().string()}, {"SQLTRACK_DSN_SYNC_TIMEOUT", "0"}},
       .stdin_text = {}});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(test::run_command({"sh", "-c", "ls " + place.journal_dir().string() + "/*.journal"})
                .exit_code,
            0)
      << "the run left no journal: " << run.err;
  CommandResult result = place.doctor({});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  expect_check(result, "FAIL", "journal", "1 journal(s) left behind");
  expect_check(result, "FAIL", "journal", "1 for PostgreSQL host=127.0.0.1 port=1 dbname=away");
  expect_check(result, "FAIL", "journal", "fix: `sqltrack sync` with each database's settings");
}

// A journal whose wrapper still runs holds its lock: it is not left behind.
TEST(Doctor, AJournalInUseIsNotLeftBehind) {
  TempDir dir;
  std::filesystem::create_directories(dir / "journals");
  ::chmod((dir / "journals").c_str(), 0700);
  test::write_file(dir / "journals" / "a.journal", "00000000 {}\n");
  const int fd = ::open((dir / "journals" / "a.journal").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  CheckResult held = check_journal_directory(dir / "journals");
  ::close(fd);
  EXPECT_EQ(held.verdict, CheckVerdict::ok) << held.finding;
  EXPECT_NE(held.finding.find("1 in use by running wrappers"), std::string::npos) << held.finding;
  CheckResult left = check_journal_directory(dir / "journals");
  EXPECT_EQ(left.verdict, CheckVerdict::failed) << left.finding;
}

TEST(Doctor, AJournalDirectoryThatCannotBeMadeFails) {
  TempDir dir;
  test::write_file(dir / "file", "");
  CheckResult result = check_journal_directory(dir / "file" / "sqltrack");
  EXPECT_EQ(result.verdict, CheckVerdict::failed) << result.finding;
  EXPECT_NE(result.finding.find("cannot be made"), std::string::npos) << result.finding;
  EXPECT_EQ(result.remedy, "set journal_dir to a directory of yours");
}

TEST(Doctor, SlurmToolsWithoutScontrolFail) {
  TempDir dir;
  DoctorPlace place(dir.path());
  ASSERT_EQ(place.sqltrack({"setup"}).exit_code, 0);
  std::filesystem::create_symlink("/bin/true", place.bin() / "squeue");
  CommandResult result = place.doctor({});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  expect_check(result, "FAIL", "slurm",
               "found squeue (not scontrol, sacct, sbatch), but no scontrol");
  expect_check(result, "skip", "epilog", "no scontrol");
}

// Slurm's own scontrol, with a slurm.conf whose controller does not run.
TEST(Doctor, ASlurmControllerThatDoesNotAnswerFails) {
  auto scontrol = find_in_path("scontrol", "/usr/bin:/usr/local/bin:/usr/sbin");
  if (!scontrol) GTEST_SKIP() << "Slurm's tools are not installed";
  TempDir dir;
  DoctorPlace place(dir.path());
  ASSERT_EQ(place.sqltrack({"setup"}).exit_code, 0);
  std::filesystem::create_symlink(*scontrol, place.bin() / "scontrol");
  test::write_file(dir / "slurm.conf",
                   "ClusterName=nowhere\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=9\n"
                   "NodeName=localhost CPUs=1 State=UNKNOWN\n"
                   "PartitionName=debug Nodes=localhost Default=YES\n");
  CommandResult result = place.doctor({}, {{"SLURM_CONF", (dir / "slurm.conf").string()}});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  expect_check(result, "FAIL", "slurm", "scontrol ping: ");
  expect_check(result, "FAIL", "slurm", "fix: start slurmctld");
  expect_check(result, "skip", "epilog", "Slurm does not answer");
}

// A password in a config file others may read: a warning, which does not fail the doctor.
TEST(Doctor, AConfigFileWithAPasswordOthersMayReadIsAWarning) {
  test::ScratchPostgresDatabase scratch;
  TempDir dir;
  DoctorPlace place(dir.path());
  ASSERT_EQ(place.sqltrack(with(scratch.cli_flags(), {"setup"})).exit_code, 0);
  test::write_file(dir / "sqltrack.conf", "password = hunter2-secret\n");
  ::chmod((dir / "sqltrack.conf").c_str(), 0644);
  CommandResult result = place.doctor(scratch.cli_flags());
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  expect_check(result, "warn", "config", "config file './sqltrack.conf' (found in the working");
  expect_check(result, "warn", "config", "password = <redacted> (config file './sqltrack.conf'");
  expect_check(result, "warn", "config", "chmod 600");
  EXPECT_EQ(result.out.find("hunter2"), std::string::npos) << result.out;
}

TEST(Doctor, AnUntrustedConfigFileFailsAndTheDatabaseIsNotAsked) {
  TempDir dir;
  DoctorPlace place(dir.path());
  test::write_file(dir / "sqltrack.conf", "path = other.db\n");
  ::chmod((dir / "sqltrack.conf").c_str(), 0666);
  CommandResult result = place.doctor({});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  expect_check(result, "FAIL", "config", "is writable by group and others");
  expect_check(result, "skip", "database", "no settings");
  expect_check(result, "ok  ", "journal");
}

TEST(DoctorParts, FindsOnlyExecutableFilesInPath) {
  TempDir dir;
  std::filesystem::create_directories(dir / "a");
  std::filesystem::create_directories(dir / "b");
  test::write_file(dir / "a" / "tool", "");
  test::write_file(dir / "b" / "tool", "#!/bin/sh\n");
  ::chmod((dir / "b" / "tool").c_str(), 0755);
  std::filesystem::create_directories(dir / "c" / "dir-tool");
  const std::string path = (dir / "a").string() + ":" + (dir / "b").string();
  EXPECT_EQ(find_in_path("tool", path), dir / "b" / "tool");
  EXPECT_EQ(find_in_path("dir-tool", (dir / "c").string()), std::nullopt);
  EXPECT_EQ(find_in_path("tool", ""), std::nullopt);
}

TEST(DoctorParts, AnEpilogThatRunsSqltrackPasses) {
  TempDir dir;
  test::write_file(dir / "site-epilog", "#!/bin/sh\n/opt/site/cleanup\n");
  test::write_file(dir / "epilog.sh", test::read_file(SQLTRACK_SOURCE_DIR "/slurm/epilog.sh"));
  CheckResult result =
      check_epilog_scripts({(dir / "site-epilog").string(), (dir / "epilog.sh").string()});
  EXPECT_EQ(result.verdict, CheckVerdict::ok) << result.finding;
  EXPECT_NE(result.finding.find("epilog.sh runs sqltrack slurm-sync"), std::string::npos)
      << result.finding;
  // Through a glob pattern, as Slurm allows.
  result = check_epilog_scripts({(dir / "*").string()});
  EXPECT_EQ(result.verdict, CheckVerdict::ok) << result.finding;
}

TEST(DoctorParts, AnEpilogWithoutSqltrackOrNoneFails) {
  TempDir dir;
  test::write_file(dir / "site-epilog", "#!/bin/sh\n/opt/site/cleanup\n");
  CheckResult other = check_epilog_scripts({(dir / "site-epilog").string()});
  EXPECT_EQ(other.verdict, CheckVerdict::failed) << other.finding;
  EXPECT_NE(other.finding.find("does not run sqltrack"), std::string::npos) << other.finding;
  EXPECT_NE(other.remedy.find("install slurm/epilog.sh as Epilog="), std::string::npos)
      << other.remedy;
  CheckResult none = check_epilog_scripts({});
  EXPECT_EQ(none.verdict, CheckVerdict::failed) << none.finding;
  EXPECT_NE(none.finding.find("Slurm runs no Epilog"), std::string::npos) << none.finding;
}

// The epilog lives on the compute nodes; where it cannot be read, doctor cannot tell.
TEST(DoctorParts, AnEpilogThatCannotBeReadHereIsAWarning) {
  TempDir dir;
  CheckResult result = check_epilog_scripts({(dir / "missing-epilog").string()});
  EXPECT_EQ(result.verdict, CheckVerdict::warning) << result.finding;
  EXPECT_NE(result.finding.find("may be on the compute nodes only"), std::string::npos)
      << result.finding;
}

}  // namespace
}  // namespace sqltrack
