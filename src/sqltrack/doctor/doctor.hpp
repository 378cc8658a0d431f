#pragma once
// `sqltrack doctor`: whether this machine's setup works, checked in the order a user fixes
// it — the settings, the database and its schema, add_columns, the journal directory, a
// SQLite file's filesystem, Slurm and its epilog. Every check only looks: nothing is created,
// migrated or changed, and a SQLite file is opened read-only, as the read commands do.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sqltrack/config/config.hpp"
#include "sqltrack/db/filesystem_check.hpp"
#include "sqltrack/util/environment.hpp"

namespace sqltrack {

// skipped: nothing to check here (no Slurm tools, PostgreSQL instead of a SQLite file);
// warning: something to look at that does not stop anything.
enum class CheckVerdict { ok, failed, skipped, warning };

struct CheckResult {
  CheckResult(std::string check, CheckVerdict result, std::string found, std::string fix = {})
      : name(std::move(check)),
        verdict(result),
        finding(std::move(found)),
        remedy(std::move(fix)) {}

  std::string name;  // "config", "database", "schema", ...
  CheckVerdict verdict;
  std::string finding;               // what was found, one line
  std::string remedy;                // what to do, for a failure or a warning
  std::vector<std::string> details;  // lines under it: the settings in effect, why
};

struct DoctorRequest {
  CommandLineSettings flags;
  Environment env;
  std::filesystem::path cwd;
  // How long each of Slurm's tools may take to answer.
  std::chrono::milliseconds slurm_timeout{std::chrono::seconds(5)};
};

// Every check, in order. Never throws for what it finds: a failure is a result.
std::vector<CheckResult> run_doctor_checks(const DoctorRequest& request);

bool all_passed(const std::vector<CheckResult>& results);

// The parts, for tests.

// The SQLite file's filesystem (skipped for PostgreSQL), as judge_sqlite_filesystem says.
CheckResult check_sqlite_filesystem_of(const Settings& settings);

// Slurm's tools on PATH (from `env`) and whether `scontrol ping` answers, then whether the
// cluster's Epilog runs sqltrack's: two results, skipped where there are no Slurm tools.
std::vector<CheckResult> check_slurm(const Environment& env, std::chrono::milliseconds timeout);

// The journal directory: present (or creatable), a directory of the user's, private
// (nothing for group and others) and writable; journals in it that no wrapper holds are left
// behind for `sqltrack sync`.
CheckResult check_journal_directory(const std::filesystem::path& dir);

// Whether a SQLite file at `path` on a filesystem with `facts` (none: it could not be
// examined) is safe from SQLite's point of view; `allowed` is the setting
// sqlite_on_network_fs.
CheckResult judge_sqlite_filesystem(const std::filesystem::path& path,
                                    const std::optional<db::FilesystemFacts>& facts, bool allowed);

// `program` in the directories of a PATH value ("/usr/bin:/bin"), when it is an executable
// file there.
std::optional<std::filesystem::path> find_in_path(std::string_view program,
                                                  std::string_view path_value);

// The scripts `scontrol show config` names as Epilog (comma-separated; none for "(null)").
std::vector<std::string> epilog_scripts(std::string_view show_config);

// Whether the epilog scripts run sqltrack's epilog: one that mentions sqltrack. A script that
// cannot be read here (it may live on the compute nodes only) is a warning.
CheckResult check_epilog_scripts(const std::vector<std::string>& scripts);

}  // namespace sqltrack
