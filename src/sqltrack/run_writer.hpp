#pragma once
// The database side of a run while its command runs: one thread that owns the run's single
// connection and does every write in order — metric batches and the status writes the event
// loop posts (heartbeat, history). The loop never waits for the database, so a slow or
// locked database delays rows, never the job's writes or the forwarding of signals.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/metric_columns.hpp"
#include "sqltrack/metric_queue.hpp"
#include "sqltrack/metric_reader.hpp"
#include "sqltrack/reject_log.hpp"

namespace sqltrack {

struct MetricWriteOptions {
  std::size_t batch_rows = 250;                   // rows per statement, and a flush trigger
  std::chrono::milliseconds flush_interval{100};  // at the latest, queued rows go this often
  bool add_columns = false;                       // add unknown keys as columns
  std::size_t memory_rows = 50000;                // beyond this, the queue spills to a file
  std::filesystem::path spill_path;
  // When the database is away at the end, how long to keep retrying before the rows are
  // kept in the reject file instead.
  std::chrono::milliseconds final_retry{10000};
};

class RunWriter {
 public:
  // `source_name` turns a row's origin into words for messages.
  RunWriter(db::Database& db, std::int64_t run_id, MetricColumns columns,
            MetricWriteOptions options, RejectLog& rejects,
            std::function<std::string(LineOrigin)> describe_origin);
  ~RunWriter();
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;

  // Starts the thread. Call after the command has started: a fork with threads running is
  // best avoided. Rows and tasks given before are kept and written then.
  void start();

  // Runs on the writer thread, after what was posted before. Exceptions are the task's own
  // business: it must catch them.
  void post(std::function<void()> task);

  // From the event loop; never blocks on the database.
  void add(PendingMetricRow row);

  // Writes everything queued, runs the posted tasks, and stops the thread. The connection is
  // the caller's again afterwards.
  void finish();

  std::uint64_t rows_written() const noexcept { return rows_written_; }

 private:
  void run();
  // Checks, merges and writes up to a few batches; false when the database is away.
  bool flush_some();
  bool write_pending();
  void keep_unstored(const std::string& reason);
  std::string where(LineOrigin origin) const { return describe_origin_(origin); }

  db::Database& db_;
  std::int64_t run_id_;
  MetricColumns columns_;
  MetricWriteOptions options_;
  RejectLog& rejects_;
  std::function<std::string(LineOrigin)> describe_origin_;
  MetricQueue queue_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;

  // Writer thread only.
  std::vector<MetricRow> pending_;  // merged, checked, not yet stored (database away)
  std::uint64_t rows_written_ = 0;
  bool warned_away_ = false;
};

}  // namespace sqltrack
