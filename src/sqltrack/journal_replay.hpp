#pragma once
// Writing a journal's records to the database, in order. Replay is idempotent: the run is
// found by its client id, metric rows are upserts, history rows already there are skipped
// and terminal states are written once — a journal replayed twice stores everything once.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/journal.hpp"
#include "sqltrack/metric_store.hpp"
#include "sqltrack/reject_log.hpp"

namespace sqltrack {

// The run a journal belongs to: its id when known, else the run created (or found, on a
// second replay) from the start facts.
RunIds replay_journal_header(db::Database& db, const JournalHeader& header);

struct ReplayCounts {
  std::size_t events = 0;       // status changes, history rows, heartbeats, the end
  std::size_t rows = 0;         // metric rows read
  std::size_t rows_stored = 0;  // after merging per (step, progress), stored
};

// Applies records in order. DatabaseError from the database goes to the caller; nothing
// applied before is undone (the next replay skips or overwrites it with the same values).
ReplayCounts replay_journal_records(db::Database& db, std::int64_t run_id,
                                    const std::vector<JournalRecord>& records,
                                    MetricStore& metrics);

// What `sqltrack sync` did with one journal.
struct JournalSyncReport {
  std::filesystem::path path;
  enum class Outcome { stored, in_use, unreadable, failed } outcome = Outcome::stored;
  std::int64_t run_id = 0;
  ReplayCounts counts;
  std::vector<std::string> problems;  // corrupt records skipped, rows rejected
  std::string error;                  // for in_use, unreadable, failed
};

// Replays one journal left by a wrapper and removes it once stored. A journal whose wrapper
// still runs (it holds the lock) is left alone. Rejected rows go to `rejects`.
JournalSyncReport sync_journal(db::Database& db, const std::filesystem::path& path,
                               RejectLog& rejects);

// Every *.journal file in `dir`, oldest first.
std::vector<std::filesystem::path> list_journals(const std::filesystem::path& dir);

}  // namespace sqltrack
