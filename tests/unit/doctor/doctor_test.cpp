// The pure parts of `sqltrack doctor`: reading Slurm's Epilog setting, judging a SQLite file's
// filesystem, and how settings are shown.
#include <gtest/gtest.h>

#include "sqltrack/config/config.hpp"
#include "sqltrack/doctor/doctor.hpp"

namespace sqltrack {
namespace {

// As `scontrol show config` prints it (Slurm 22.05), around the Epilog line.
constexpr const char* kShowConfig =
    "Configuration data as of 2026-11-23T10:00:00\n"
    "EnforcePartLimits       = NO\n"
    "Epilog                  = /etc/slurm/epilog.sh\n"
    "EpilogMsgTime           = 2000 usec\n"
    "EpilogSlurmctld         = /etc/slurm/ctld-epilog.sh\n";

TEST(DoctorEpilog, ReadsTheEpilogLineOnly) {
  EXPECT_EQ(epilog_scripts(kShowConfig), std::vector<std::string>{"/etc/slurm/epilog.sh"});
}

TEST(DoctorEpilog, NoneWhenSlurmSaysNull) {
  EXPECT_TRUE(epilog_scripts("Epilog                  = (null)\n").empty());
  EXPECT_TRUE(epilog_scripts("Prolog = /x\n").empty());
  EXPECT_TRUE(epilog_scripts("").empty());
}

TEST(DoctorEpilog, SplitsAListOfScripts) {
  EXPECT_EQ(epilog_scripts("Epilog = /a/one.sh, /b/two.sh,\n"),
            (std::vector<std::string>{"/a/one.sh", "/b/two.sh"}));
}

// NFS's statfs magic number, and ext4's.
constexpr unsigned long kNfs = 0x6969;
constexpr unsigned long kExt4 = 0xEF53;

TEST(DoctorFilesystem, ANetworkFilesystemFails) {
  CheckResult result =
      judge_sqlite_filesystem("/home/alice/sqltrack.db", db::FilesystemFacts{kNfs, ""}, false);
  EXPECT_EQ(result.verdict, CheckVerdict::failed) << result.finding;
  EXPECT_NE(result.finding.find("network filesystem (NFS"), std::string::npos) << result.finding;
  EXPECT_NE(result.remedy.find("PostgreSQL"), std::string::npos) << result.remedy;
}

TEST(DoctorFilesystem, ANetworkFilesystemAllowedOnPurposeIsAWarning) {
  CheckResult result =
      judge_sqlite_filesystem("/home/alice/sqltrack.db", db::FilesystemFacts{kNfs, ""}, true);
  EXPECT_EQ(result.verdict, CheckVerdict::warning) << result.finding;
  EXPECT_NE(result.finding.find("sqlite_on_network_fs = true"), std::string::npos)
      << result.finding;
}

TEST(DoctorFilesystem, ALocalFilesystemPasses) {
  CheckResult result =
      judge_sqlite_filesystem("sqltrack.db", db::FilesystemFacts{kExt4, ""}, false);
  EXPECT_EQ(result.verdict, CheckVerdict::ok) << result.finding;
  EXPECT_EQ(result.finding, "'sqltrack.db' is on a local filesystem");
}

TEST(DoctorFilesystem, ALocationThatCannotBeExaminedIsSkipped) {
  CheckResult result = judge_sqlite_filesystem("/nowhere/sqltrack.db", std::nullopt, false);
  EXPECT_EQ(result.verdict, CheckVerdict::skipped) << result.finding;
}

TEST(DoctorSettings, SecretsAreMaskedWhenShown) {
  EXPECT_EQ(shown_setting_value("password", "hunter2"), "<redacted>");
  EXPECT_EQ(shown_setting_value("dbname", "postgresql://u:pw@db/x"),
            "postgresql://u:<redacted>@db/x");
  EXPECT_EQ(shown_setting_value("passfile", "/home/alice/.pgpass"), "/home/alice/.pgpass");
  EXPECT_EQ(shown_setting_value("host", "db\x1b[2J"), "db\\x1b[2J");
  EXPECT_EQ(shown_setting_value("password", ""), "");
}

TEST(DoctorVerdicts, OnlyAFailureFails) {
  std::vector<CheckResult> results{{"a", CheckVerdict::ok, ""},
                                   {"b", CheckVerdict::skipped, ""},
                                   {"c", CheckVerdict::warning, ""}};
  EXPECT_TRUE(all_passed(results));
  results.emplace_back("d", CheckVerdict::failed, "");
  EXPECT_FALSE(all_passed(results));
}

}  // namespace
}  // namespace sqltrack
