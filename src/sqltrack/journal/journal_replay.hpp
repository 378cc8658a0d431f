#pragma once
// Writing a journal's records to the database, in order. Replay is idempotent: the run is
// found by its client id, metric rows are upserts, history rows already there are skipped
// and terminal states are written once — a journal replayed twice stores everything once.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/journal/journal.hpp"
#include "sqltrack/metrics/reject_log.hpp"
#include "sqltrack/metrics/sql/metric_store.hpp"

namespace sqltrack {

// The run a journal belongs to, found by its client id only (run numbers of another database
// mean another run): the run created before the journal, else the one created (or found, on
// a second replay) from the start facts. Throws sqltrack::Error when a run that was created
// before its journal is not there.
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

// The database `sqltrack sync` writes into.
struct SyncDestination {
  DatabaseIdentity identity;
  // Also store journals that do not say which database they belong to (written by earlier
  // versions) into this one.
  bool store_unidentified = false;
};

// What `sqltrack sync` did with one journal.
struct JournalSyncReport {
  std::filesystem::path path;
  // elsewhere: it belongs to another database (or does not say, and was not asked for);
  // empty: a file with nothing in it, removed.
  enum class Outcome {
    stored,
    in_use,
    elsewhere,
    unreadable,
    failed,
    empty
  } outcome = Outcome::stored;
  std::int64_t run_id = 0;
  ReplayCounts counts;
  std::vector<std::string> problems;  // corrupt records skipped, rows rejected
  std::string error;                  // for in_use, elsewhere, unreadable, failed
};

// Replays one journal left by a wrapper into `db` when it belongs there, and removes it once
// stored. A journal whose wrapper still runs (it holds the lock) is left alone; an empty file
// is removed. Rejected rows go to `rejects`.
JournalSyncReport sync_journal(db::Database& db, const SyncDestination& destination,
                               const std::filesystem::path& path, RejectLog& rejects);

// Where a journal belongs, for a line about it: its database, "an unknown database (written
// for 'SQLite ...' by an earlier version)", or why the header cannot be read.
std::string journal_destination(const std::filesystem::path& path);

// Whether a wrapper still writes the journal (it holds the journal's lock). Takes no lock
// that a wrapper or `sqltrack sync` would wait for.
bool journal_in_use(const std::filesystem::path& path);

// Every *.journal file in `dir`, oldest first.
std::vector<std::filesystem::path> list_journals(const std::filesystem::path& dir);

}  // namespace sqltrack
