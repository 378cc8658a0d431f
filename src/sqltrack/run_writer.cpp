#include "sqltrack/run_writer.hpp"

#include <csignal>
#include <iostream>

#include <pthread.h>

#include "sqltrack/error.hpp"
#include "sqltrack/metric_format.hpp"
#include "sqltrack/metric_upsert.hpp"

namespace sqltrack {
namespace {

bool database_away(const DatabaseError& e) {
  return e.kind() == DatabaseError::Kind::connection || e.kind() == DatabaseError::Kind::busy;
}

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

}  // namespace

RunWriter::RunWriter(db::Database& db, std::int64_t run_id, MetricColumns columns,
                     MetricWriteOptions options, RejectLog& rejects,
                     std::function<std::string(LineOrigin)> describe_origin)
    : db_(db),
      run_id_(run_id),
      columns_(std::move(columns)),
      options_(std::move(options)),
      rejects_(rejects),
      describe_origin_(std::move(describe_origin)),
      queue_(options_.memory_rows, options_.spill_path) {}

RunWriter::~RunWriter() {
  finish();
}

void RunWriter::start() {
  if (thread_.joinable()) return;
  // Signals belong to the event loop's thread; the writer blocks them all.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void RunWriter::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void RunWriter::add(PendingMetricRow row) {
  if (queue_.push(std::move(row)) == options_.batch_rows) wake_.notify_one();
}

void RunWriter::finish() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    run();  // never started (the command did not run): write what there is here
  }
}

void RunWriter::run() {
  auto retry_delay = std::chrono::milliseconds(100);
  std::chrono::steady_clock::time_point give_up{};
  for (;;) {
    std::vector<std::function<void()>> tasks;
    bool stopping;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.flush_interval, [&] {
        return stopping_ || !tasks_.empty() || queue_.size() >= options_.batch_rows;
      });
      tasks.swap(tasks_);
      stopping = stopping_;
    }
    for (auto& task : tasks) task();
    bool stored = true;
    while (stored && (queue_.size() > 0 || !pending_.empty())) {
      const std::uint64_t before = rows_written_ + rejects_.rejected() + rejects_.kept();
      const std::size_t queued = queue_.size();
      stored = flush_some();
      // A queue that yields nothing (a spill file that cannot be read) must not spin.
      if (stored && queue_.size() >= queued && pending_.empty() &&
          rows_written_ + rejects_.rejected() + rejects_.kept() == before) {
        break;
      }
      // Between batches, a posted task (heartbeat) should not wait for a long backlog.
      if (!stopping) break;
    }
    if (stored) {
      retry_delay = std::chrono::milliseconds(100);
      give_up = {};
      if (stopping && queue_.size() == 0 && pending_.empty()) {
        std::lock_guard lock(mutex_);
        if (tasks_.empty()) break;
      }
      continue;
    }
    if (stopping) {
      auto now = std::chrono::steady_clock::now();
      if (give_up == std::chrono::steady_clock::time_point{}) give_up = now + options_.final_retry;
      if (now >= give_up) {
        keep_unstored("not stored: the database was unavailable when the command ended");
        std::lock_guard lock(mutex_);
        if (tasks_.empty()) break;
        continue;
      }
    }
    std::this_thread::sleep_for(retry_delay);
    retry_delay = std::min(retry_delay * 2, std::chrono::milliseconds(5000));
  }
}

bool RunWriter::flush_some() {
  if (!pending_.empty()) return write_pending();
  // Several statements per transaction: one commit (one disk flush) per ~10 000 rows.
  std::vector<PendingMetricRow> taken =
      queue_.take(std::max<std::size_t>(options_.batch_rows * 10, 10000));
  MetricBatch batch;
  for (auto& pending : taken) {
    std::string reason;
    for (const auto& [key, value] : pending.row.values) {
      const MetricColumn* column = columns_.find(key);
      if (!column && options_.add_columns) {
        try {
          columns_.add(add_metric_column(db_, key, value));
          column = columns_.find(key);
        } catch (const Error& e) {
          reason = one_line(e.what());
          if (!reason.starts_with("cannot add column")) {
            reason = "cannot add column \"" + key + "\": " + reason;
          }
        }
      }
      if (!reason.empty()) break;
      if (!column) {
        reason = columns_.unknown_column_reason(key);
        break;
      }
      if (auto mismatch = metric_value_mismatch(*column, value)) {
        reason = *mismatch;
        break;
      }
    }
    if (!reason.empty()) {
      rejects_.reject(where(pending.origin), reason, format_metric_row(pending.row));
      continue;
    }
    batch.add(std::move(pending.row));
  }
  pending_ = batch.take().rows;
  return write_pending();
}

bool RunWriter::write_pending() {
  if (pending_.empty()) return true;
  try {
    auto refused = upsert_metric_rows(db_, run_id_, pending_, columns_, options_.batch_rows);
    for (const auto& row : refused) {
      rejects_.reject("row step=" + std::to_string(pending_[row.index].step),
                      "the database refused it: " + one_line(row.reason),
                      format_metric_row(pending_[row.index]));
    }
    rows_written_ += pending_.size() - refused.size();
    pending_.clear();
    if (warned_away_) {
      std::cerr << "sqltrack-run: metrics are being stored again\n";
      warned_away_ = false;
    }
    return true;
  } catch (const DatabaseError& e) {
    if (!database_away(e)) {
      // Not a row's fault (the isolation above would have found it): keep them, say why.
      for (const auto& row : pending_) {
        rejects_.keep("row step=" + std::to_string(row.step), "not stored: " + one_line(e.what()),
                      format_metric_row(row));
      }
      pending_.clear();
      return true;
    }
    if (!warned_away_) {
      std::cerr << "sqltrack-run: warning: cannot store metrics now (" << one_line(e.what())
                << "); they are queued and retried\n";
      warned_away_ = true;
    }
    return false;
  } catch (const Error& e) {
    for (const auto& row : pending_) {
      rejects_.keep("row step=" + std::to_string(row.step), "not stored: " + one_line(e.what()),
                    format_metric_row(row));
    }
    pending_.clear();
    return true;
  }
}

void RunWriter::keep_unstored(const std::string& reason) {
  for (const auto& row : pending_) {
    rejects_.keep("row step=" + std::to_string(row.step), reason, format_metric_row(row));
  }
  pending_.clear();
  for (;;) {
    auto rows = queue_.take(options_.batch_rows * 10);
    if (rows.empty()) break;
    for (const auto& row : rows)
      rejects_.keep(where(row.origin), reason, format_metric_row(row.row));
  }
}

}  // namespace sqltrack
