#pragma once
// The database side of a run while its command runs: one thread that owns the run's single
// connection and does every write in order — metric batches and the events the event loop
// posts (heartbeat, history, status, the end). The loop never waits for the database, so a
// slow, locked or absent database delays rows, never the job's writes or the forwarding of
// signals.
//
// When the database cannot write (down, restarting, too many clients, the network, a full
// disk) the writes go to the run's journal, a local file, in the same order; the thread
// reconnects with exponential backoff and jitter, replays the journal and goes on writing
// directly. What is still in the journal when the command has ended and the database has not
// come back within `final_retry` stays there for `sqltrack sync`. A database that cannot
// write until someone changes it (read-only, removed, a wrong password) is not retried: the
// journal keeps the run from then on.
//
// A failure of the wrapper's own (a bug, memory exhausted) on this thread, or one the event
// loop reports with abandon(), stops the recording: it is said once, and what the writer
// holds and what comes after goes to the journal (or, without one, the reject file).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/journal/journal.hpp"
#include "sqltrack/metrics/metric_queue.hpp"
#include "sqltrack/metrics/metric_reader.hpp"
#include "sqltrack/metrics/reject_log.hpp"
#include "sqltrack/metrics/sql/metric_columns.hpp"
#include "sqltrack/metrics/sql/metric_store.hpp"
#include "sqltrack/store/run_event.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {

struct MetricWriteOptions {
  std::size_t batch_rows = 250;                   // rows per statement, and a flush trigger
  std::chrono::milliseconds flush_interval{100};  // at the latest, queued rows go this often
  bool add_columns = false;                       // add unknown keys as columns
  std::size_t memory_rows = 50000;                // beyond this, the queue spills to a file
  std::filesystem::path spill_path;
  // When the database is away at the end, how long to keep trying before what is left stays
  // in the journal (or, without one, the rows go to the reject file).
  std::chrono::milliseconds final_retry{30000};
  // Where the journal goes when the database is away; empty: no journal.
  std::filesystem::path journal_path;
  // Called on the writer thread after each commit of metric rows (directly or from the
  // journal) with how many were stored: bench/swarm times lines from hand-off to commit.
  std::function<void(std::uint64_t rows)> on_stored;
};

// Opens a connection to the run's database with its schema in place; throws DatabaseError.
using ConnectDatabase = std::function<std::unique_ptr<db::Database>()>;

// Where the run stands at the end.
struct RunWriterOutcome {
  bool all_stored = true;                        // everything is in the database
  std::optional<std::filesystem::path> journal;  // what is not, is here
  std::optional<std::int64_t> run_id;            // known once the run row exists
};

class RunWriter {
 public:
  // Where the writer thread sends what it is given. Every change goes through enter():
  //
  //             lost the connection (retryable)
  //   direct ─────────────────────────────────► away: journaled, reconnecting with backoff
  //     ▲  ◄─────────────────────────────────── │
  //     │    reconnected, the journal replayed   │ refused for good (read-only, removed,
  //     │                                        ▼ a wrong password, a run that ended)
  //     └── refused for good ────────────► not_retried: journaled until `sqltrack sync`
  //
  //   any ── a failure of the wrapper's own (abandon(), or on this thread) ──► abandoned
  //
  // finish() (stopping) is not a link state: each of them ends in its own way (see
  // write_until_stopped).
  enum class Link { direct, away, not_retried, abandoned };

  // `db`: the connection the run was started on, or null when the database was away then;
  // `header.run_id` is set when the run row exists. `columns` is used when `db` is given.
  RunWriter(ConnectDatabase connect, std::unique_ptr<db::Database> db, JournalHeader header,
            MetricWriteOptions options, RejectLog& rejects,
            std::function<std::string(LineOrigin)> describe_origin);
  ~RunWriter();
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;

  // Starts the thread. Call after the command has started: a fork with threads running is
  // best avoided. Rows and events given before are kept and written then.
  void start();

  // From the event loop; never blocks on the database.
  void post(RunEvent event);
  void add(PendingMetricRow row);
  // Best effort: run on the writer thread with the connection when the database is there,
  // dropped when it is not (resource samples). Exceptions are the task's business.
  void post_task(std::function<void(db::Database&, std::int64_t run_id)> task);

  // The database refused the run at its start for a reason that retrying cannot fix (the
  // caller said so): the run goes to the journal and the thread never connects. Call before
  // start().
  void stop_retrying();

  // From any thread, after a failure of the wrapper's own that the caller has reported: no
  // more is written to the database; everything goes to the journal.
  void abandon();

  // Writes every row, then `final_event`, and stops the thread; waits at most
  // options.final_retry for an absent database. A second call (from any thread) waits for the
  // first and returns the same outcome. Never throws.
  RunWriterOutcome finish(std::optional<RunEvent> final_event);

  std::uint64_t rows_written() const noexcept { return rows_written_; }

 private:
  using Task = std::function<void(db::Database&, std::int64_t)>;
  struct Posted {
    std::optional<RunEvent> event;
    Task task;
  };

  void run();
  void write_until_stopped();
  bool abandoned();
  bool direct() const { return link_ == Link::direct; }
  void enter(Link next);
  void deliver(const RunEvent& event);
  void flush_metrics(bool stopping);
  bool write_pending();
  void journal_queued_rows();
  void keep(JournalRecord record);
  void keep_unchecked(MetricBatch& batch, const std::vector<PendingMetricRow>& taken,
                      std::size_t checked);
  void reject_pending(const std::string& reason);
  void sync_journal_now_and_then();
  void load_metric_columns();
  void lose_connection(const DatabaseError& e);
  void stop_retrying_because(const std::string& why);
  std::string where_kept() const;
  void try_reconnect();
  void count_stored(std::uint64_t rows);
  void give_up(const std::string& why);
  void journal_everything_left();
  void keep_unstored(const std::string& reason);
  std::string where(LineOrigin origin) const { return describe_origin_(origin); }

  ConnectDatabase connect_;
  std::unique_ptr<db::Database> db_;
  JournalHeader header_;
  MetricWriteOptions options_;
  RejectLog& rejects_;
  std::function<std::string(LineOrigin)> describe_origin_;
  MetricQueue queue_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Posted> posted_;
  std::optional<RunEvent> final_event_;
  bool stopping_ = false;
  bool abandoned_ = false;
  std::thread thread_;
  // finish(): the first caller stops the thread; a second waits for it.
  std::mutex finish_mutex_;
  bool finished_ = false;

  // Writer thread only (and finish() after it has ended).
  std::deque<Posted> in_hand_;  // taken from posted_, not yet delivered
  std::optional<MetricStore> metrics_;
  std::vector<MetricRow> pending_;  // merged, checked, not yet stored (database away)
  std::unique_ptr<JournalWriter> journal_;
  Link link_ = Link::direct;
  bool journaling_ = false;        // the journal holds records not yet in the database
  std::uint64_t replayed_to_ = 0;  // journal offset up to which records are in the database
  // Cannot write the journal: the record that failed and the events after it wait in held_,
  // metric rows in the queue.
  bool journal_failed_ = false;
  std::deque<JournalRecord> held_;
  bool said_not_retried_ = false;    // the warning that says so (and where the run is) is out
  bool columns_unreadable_ = false;  // said once; later rows are kept in the reject file
  std::chrono::steady_clock::time_point next_retry_{};
  std::chrono::milliseconds retry_delay_{100};
  std::minstd_rand jitter_{std::random_device{}()};
  std::chrono::steady_clock::time_point last_sync_{};
  std::atomic<std::uint64_t> rows_written_ = 0;
  bool warned_away_ = false;
  RunWriterOutcome outcome_;
};

}  // namespace sqltrack
