#include "sqltrack/journal/journal_replay.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "sqltrack/metrics/protocol.hpp"
#include "sqltrack/metrics/sql/metric_columns.hpp"
#include "sqltrack/store/store.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack {
namespace {

// The lock a living wrapper holds on its journal; released by the kernel when it dies.
class JournalLock {
 public:
  explicit JournalLock(const std::filesystem::path& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CLOEXEC)) {
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0) locked_ = true;
    error_ = errno;
  }
  ~JournalLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  JournalLock(const JournalLock&) = delete;
  JournalLock& operator=(const JournalLock&) = delete;
  bool opened() const noexcept { return fd_ >= 0; }
  bool locked() const noexcept { return locked_; }
  int error() const noexcept { return error_; }

 private:
  int fd_;
  bool locked_ = false;
  int error_ = 0;
};

}  // namespace

RunIds replay_journal_header(db::Database& db, const JournalHeader& header) {
  RunStore store(db);
  if (header.run_id) {
    const std::array<db::Value, 1> params{header.client_id};
    auto found = db.query("SELECT id, experiment_id FROM runs WHERE client_id = $1", params);
    if (found.empty() || !found.rows[0][0] || !found.rows[0][1]) {
      throw Error("no run with client id " + header.client_id + " in " + db.describe() +
                  " (its wrapper wrote to run " + std::to_string(*header.run_id) +
                  " of its database)");
    }
    return {std::stoll(*found.rows[0][0]), std::stoll(*found.rows[0][1])};
  }
  RunStart start = *header.start;
  start.client_id = header.client_id;
  return store.start_run_once(start);
}

ReplayCounts replay_journal_records(db::Database& db, std::int64_t run_id,
                                    const std::vector<JournalRecord>& records,
                                    MetricStore& metrics) {
  ReplayCounts counts;
  RunStore store(db);
  for (const auto& record : records) {
    if (const auto* event = std::get_if<RunEvent>(&record)) {
      apply_run_event(store, run_id, *event, true);
      ++counts.events;
      continue;
    }
    const auto& rows = std::get<MetricRecord>(record).rows;
    MetricBatch batch;
    for (const auto& row : rows) {
      ++counts.rows;
      MetricParseResult parsed = parse_metric_line(row.line, std::string::npos - 1);
      auto* line = std::get_if<MetricLine>(&parsed);
      if (!line) {
        // Our own writing of a row the job wrote: unreadable only when the file was edited.
        metrics.reject(row.origin, "unreadable row in the journal", row.line);
        continue;
      }
      MetricRow metric;
      metric.step = line->step.value_or(0);
      metric.progress = line->progress.value_or(0.0);
      metric.values = std::move(line->values);
      metrics.check(db, std::move(metric), batch, [&] { return row.origin; });
    }
    counts.rows_stored += metrics.store(db, run_id, batch.take().rows);
  }
  return counts;
}

namespace {

// Why a journal is not for `destination`; nullopt when it is.
std::optional<std::string> not_for(const JournalHeader& header,
                                   const SyncDestination& destination) {
  const std::string here = describe_identity(destination.identity);
  if (!header.target) {
    if (destination.store_unidentified) return std::nullopt;
    return "it does not say which database it belongs to (an earlier sqltrack wrote it for '" +
           header.database + "'); `sqltrack sync --store-unidentified` stores it into " + here;
  }
  if (same_database(*header.target, destination.identity)) return std::nullopt;
  return "it belongs to " + describe_identity(*header.target) + ", not to " + here +
         "; run `sqltrack sync` with that database's settings";
}

}  // namespace

std::string journal_destination(const std::filesystem::path& path) {
  try {
    // Records after the header are not needed: start past the end.
    auto header = read_journal(path, std::numeric_limits<std::uint64_t>::max()).header;
    if (!header) return "an unknown database (its header cannot be read)";
    if (!header->target) {
      return "an unknown database (an earlier sqltrack wrote it for '" + header->database + "')";
    }
    return describe_identity(*header->target);
  } catch (const Error& e) {
    return "an unknown database (" + one_line(e.what()) + ")";
  }
}

JournalSyncReport sync_journal(db::Database& db, const SyncDestination& destination,
                               const std::filesystem::path& path, RejectLog& rejects) {
  JournalSyncReport report;
  report.path = path;
  JournalLock lock(path);
  if (!lock.opened()) {
    report.outcome = JournalSyncReport::Outcome::unreadable;
    report.error = std::strerror(lock.error());
    return report;
  }
  if (!lock.locked()) {
    report.outcome = JournalSyncReport::Outcome::in_use;
    report.error = "its wrapper is still running (it holds the journal's lock)";
    return report;
  }
  std::error_code size_error;
  if (std::filesystem::file_size(path, size_error) == 0 && !size_error) {
    // Created and never written (a full disk, by a wrapper before journals were written whole):
    // it holds nothing to store.
    std::filesystem::remove(path, size_error);
    report.outcome = JournalSyncReport::Outcome::empty;
    return report;
  }
  JournalContents contents;
  try {
    contents = read_journal(path);
  } catch (const Error& e) {
    report.outcome = JournalSyncReport::Outcome::unreadable;
    report.error = e.what();
    return report;
  }
  report.problems = contents.problems;
  if (!contents.header) {
    report.outcome = JournalSyncReport::Outcome::unreadable;
    report.error = "no readable header: the run it belongs to is unknown";
    return report;
  }
  if (auto elsewhere = not_for(*contents.header, destination)) {
    report.outcome = JournalSyncReport::Outcome::elsewhere;
    report.error = *elsewhere;
    return report;
  }
  try {
    RunIds ids = replay_journal_header(db, *contents.header);
    report.run_id = ids.run_id;
    MetricStore metrics(MetricColumns::load(db), contents.header->add_columns, 250, rejects);
    report.counts = replay_journal_records(db, ids.run_id, contents.records, metrics);
  } catch (const Error& e) {
    report.outcome = JournalSyncReport::Outcome::failed;
    report.error = one_line(e.what());
    return report;
  }
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  return report;
}

bool journal_in_use(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  // A shared lock is refused only while a wrapper holds its exclusive one; it is dropped at
  // once, so sync never finds it held for long.
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

std::vector<std::filesystem::path> list_journals(const std::filesystem::path& dir) {
  std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".journal" || !entry.is_regular_file()) continue;
    found.emplace_back(entry.last_write_time(ec), entry.path());
  }
  if (ec && found.empty() && std::filesystem::exists(dir)) {
    throw Error("cannot read the journal directory '" + dir.string() + "': " + ec.message());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::filesystem::path> paths;
  for (auto& [time, path] : found) paths.push_back(std::move(path));
  return paths;
}

}  // namespace sqltrack
