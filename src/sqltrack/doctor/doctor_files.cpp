// The checks of local files: the journal directory and the SQLite file's filesystem.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "sqltrack/doctor/doctor.hpp"
#include "sqltrack/journal/journal_replay.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/output_file.hpp"
#include "sqltrack/util/text.hpp"
#include "sqltrack/util/utf8_text.hpp"

namespace sqltrack {
namespace {

constexpr const char* kJournal = "journal";
constexpr const char* kOfYours = "set journal_dir to a directory of yours";

std::string quoted(const std::filesystem::path& path) {
  return "'" + escape_for_terminal(path.string()) + "'";
}

// A journal directory that is not there yet: the wrapper makes it (0700) with its parents
// when a run first needs it, which needs the nearest existing parent to be writable.
CheckResult check_creatable(const std::filesystem::path& dir) {
  std::filesystem::path existing = dir.parent_path();
  std::error_code ec;
  while (!existing.empty() && !std::filesystem::exists(existing, ec)) {
    existing = existing.parent_path();
  }
  if (existing.empty()) existing = ".";
  if (std::filesystem::is_directory(existing, ec) && ::access(existing.c_str(), W_OK | X_OK) == 0) {
    return {kJournal, CheckVerdict::ok,
            quoted(dir) +
                " does not exist yet: it is made, private (0700), when a run first "
                "needs it"};
  }
  return {kJournal, CheckVerdict::failed,
          quoted(dir) + " does not exist and cannot be made: " + quoted(existing) +
              " is not a directory you may write",
          kOfYours};
}

// The journals in `dir`: those no wrapper holds are left behind for `sqltrack sync`.
CheckResult check_journals(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> journals;
  try {
    journals = list_journals(dir);
  } catch (const Error& e) {
    return {kJournal, CheckVerdict::failed, one_line(e.what()), "chmod 700 " + quoted(dir)};
  }
  std::size_t in_use = 0;
  // Each journal goes only into its own database: say which, for `sqltrack sync`'s settings.
  std::map<std::string, std::size_t> destinations;
  for (const auto& path : journals) {
    if (journal_in_use(path)) {
      ++in_use;
    } else {
      ++destinations[journal_destination(path)];
    }
  }
  const std::size_t left = journals.size() - in_use;
  const std::string running =
      in_use > 0 ? ", " + std::to_string(in_use) + " in use by running wrappers" : "";
  if (left > 0) {
    CheckResult result(kJournal, CheckVerdict::failed,
                       quoted(dir) + ": " + std::to_string(left) +
                           " journal(s) left behind by runs whose database was away" + running,
                       "`sqltrack sync` with each database's settings stores its journals");
    for (const auto& [destination, count] : destinations) {
      result.details.push_back(std::to_string(count) + " for " + destination);
    }
    return result;
  }
  return {kJournal, CheckVerdict::ok,
          quoted(dir) + " is private and writable, no journals left behind" + running};
}

}  // namespace

CheckResult check_journal_directory(const std::filesystem::path& dir) {
  struct stat info {};
  if (::lstat(dir.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return check_creatable(dir);
    return {kJournal, CheckVerdict::failed,
            "cannot examine " + quoted(dir) + ": " + std::strerror(errno), kOfYours};
  }
  // As the wrapper: the user's (or root's) own link is followed, nobody else's.
  if (S_ISLNK(info.st_mode)) {
    if (info.st_uid != ::geteuid() && info.st_uid != 0) {
      return {kJournal, CheckVerdict::failed,
              quoted(dir) + " is a symbolic link of " + describe_user(info.st_uid) + ": refused",
              kOfYours};
    }
    if (::stat(dir.c_str(), &info) != 0) {
      return {kJournal, CheckVerdict::failed,
              quoted(dir) + " is a symbolic link to nothing (" + std::strerror(errno) + ")",
              kOfYours};
    }
  }
  if (!S_ISDIR(info.st_mode)) {
    return {kJournal, CheckVerdict::failed,
            quoted(dir) + " is not a directory (it is " + file_kind(info.st_mode) + ")", kOfYours};
  }
  if (info.st_uid != ::geteuid()) {
    return {kJournal, CheckVerdict::failed,
            quoted(dir) + " belongs to " + describe_user(info.st_uid) + ", not to you", kOfYours};
  }
  if ((info.st_mode & 077) != 0) {
    return {kJournal, CheckVerdict::failed,
            quoted(dir) + " is not private (mode " + octal_mode(info.st_mode) +
                "): others may read the runs it holds",
            "chmod 700 " + quoted(dir)};
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return {kJournal, CheckVerdict::failed,
            quoted(dir) + " is not writable (mode " + octal_mode(info.st_mode) + ")",
            "chmod 700 " + quoted(dir)};
  }
  return check_journals(dir);
}

CheckResult judge_sqlite_filesystem(const std::filesystem::path& path,
                                    const std::optional<db::FilesystemFacts>& facts, bool allowed) {
  constexpr const char* kName = "filesystem";
  if (!facts) {
    return {kName, CheckVerdict::skipped,
            "cannot examine where " + quoted(path) + " is (see database)"};
  }
  auto kind = db::filesystem_kind(facts->f_type, facts->fuse_subtype);
  if (!kind) return {kName, CheckVerdict::ok, quoted(path) + " is on a local filesystem"};
  if (allowed) {
    return {kName, CheckVerdict::warning,
            quoted(path) + " is on a network filesystem (" + *kind +
                "), used since sqlite_on_network_fs = true: concurrent wrappers may corrupt it",
            "use PostgreSQL for jobs on several machines"};
  }
  try {
    db::check_sqlite_filesystem(path, *facts);
  } catch (const Error& e) {
    return {kName, CheckVerdict::failed, one_line(e.what()),
            "use PostgreSQL (host, dbname), or a SQLite file on a local disk (path)"};
  }
  return {kName, CheckVerdict::ok, quoted(path) + " is on a local filesystem"};
}

CheckResult check_sqlite_filesystem_of(const Settings& settings) {
  if (settings.engine != db::Engine::sqlite) {
    return {"filesystem", CheckVerdict::skipped, "PostgreSQL: no SQLite file"};
  }
  bool allowed = false;
  try {
    allowed = settings.get_bool("sqlite_on_network_fs", false);
  } catch (const Error& e) {
    return {"filesystem", CheckVerdict::failed, one_line(e.what()),
            "set sqlite_on_network_fs to true or false"};
  }
  const std::filesystem::path path = settings.sqlite_path();
  return judge_sqlite_filesystem(path, db::examine_filesystem(path), allowed);
}

}  // namespace sqltrack
