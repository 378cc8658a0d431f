#pragma once
// A run's journal: what the wrapper could not write to the database when it happened (the
// run row, status changes, heartbeats, metric rows), appended in order to a local file and
// replayed when the database answers again — by the wrapper itself or by `sqltrack sync`.
//
// One record per line: eight hex digits of the CRC-32 of the JSON text, a space, the JSON
// text. A torn or corrupt line fails its checksum and is skipped; the lines after it are
// still read. The first record is the header; it says which run the records belong to, and
// in which database.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/connect/database_identity.hpp"
#include "sqltrack/store/run_event.hpp"
#include "sqltrack/store/store.hpp"
#include "sqltrack/util/environment.hpp"
#include "sqltrack/util/output_file.hpp"

namespace sqltrack {

struct JournalHeader {
  std::string client_id;               // the run's UUID, also the file's name
  std::optional<std::int64_t> run_id;  // set when the run was created before the journal
  std::optional<RunStart> start;       // the run to create when it was not
  bool add_columns = false;            // unknown metric keys become columns on replay too
  std::string database;                // where the run was going, for messages (no password)
  // The database the run belongs to; absent in journals of earlier versions (header version 1).
  std::optional<DatabaseIdentity> target;
};

// Metric rows as the job wrote them, not yet checked against the columns, each with where it
// came from ("SQLTRACK_METRICS line 12") for messages on replay.
struct JournaledMetricRow {
  std::string origin;
  std::string line;  // format_metric_row: step and progress always given
};

struct MetricRecord {
  std::vector<JournaledMetricRow> rows;
};

using JournalRecord = std::variant<RunEvent, MetricRecord>;

// $XDG_STATE_HOME/sqltrack, else ~/.local/state/sqltrack; the setting journal_dir wins.
std::filesystem::path default_journal_dir(const Environment& env);

std::filesystem::path journal_path(const std::filesystem::path& dir, const std::string& client_id);

// A new random UUID (version 4), as text.
std::string new_client_id();

// Appends records to one run's journal, holding an exclusive lock on it so `sqltrack sync`
// leaves it alone while the wrapper lives.
class JournalWriter {
 public:
  // Creates the directory (0700) and the file (0600) and writes the header; throws
  // sqltrack::Error saying what failed and where, and then leaves no file behind. The file
  // appears at `path` locked and with its header.
  JournalWriter(const std::filesystem::path& path, const JournalHeader& header);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Written (to the kernel) when this returns; throws sqltrack::Error (disk full, ...).
  void append(const JournalRecord& record);
  // To the disk: at the end, and now and then while records come; throws sqltrack::Error when
  // the disk says no (what was written may not be there).
  void sync();
  // Removes the file: everything in it is stored.
  void remove();

  const std::filesystem::path& path() const noexcept { return path_; }
  // Bytes written so far; records after an offset are read back with read_journal.
  std::uint64_t size() const noexcept { return size_; }

 private:
  void open_locked(const std::filesystem::path& file, IfExists if_exists);
  void write_line(const nlohmann::json& record);

  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

struct JournalContents {
  std::optional<JournalHeader> header;
  std::vector<JournalRecord> records;
  // "line 7: checksum mismatch (a torn or corrupted record), skipped"
  std::vector<std::string> problems;
  std::uint64_t end_offset = 0;  // where the last complete line ended
};

// Reads the records that start at or after `offset` (the header is read in any case).
// Throws sqltrack::Error only when the file cannot be read at all.
JournalContents read_journal(const std::filesystem::path& path, std::uint64_t offset = 0);

// Encoding of one line, for tests: "<crc32 hex> <json>\n".
std::string journal_line(const nlohmann::json& record);
nlohmann::json journal_header_to_json(const JournalHeader& header);
nlohmann::json journal_record_to_json(const JournalRecord& record);

}  // namespace sqltrack
