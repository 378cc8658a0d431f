#include "sqltrack/run_writer.hpp"

#include <csignal>
#include <iostream>

#include <pthread.h>

#include "sqltrack/error.hpp"
#include "sqltrack/journal_replay.hpp"
#include "sqltrack/metric_format.hpp"
#include "sqltrack/metric_upsert.hpp"

namespace sqltrack {
namespace {

constexpr std::chrono::milliseconds kFirstRetry{100};
constexpr std::chrono::milliseconds kLongestRetry{2000};
// Rows per journal record and per transaction: one commit (one disk flush) per ~10 000 rows.
constexpr std::size_t kRowsPerChunk = 10000;

void warn(const std::string& message) {
  std::cerr << "sqltrack-run: warning: " << one_line(message) << '\n';
}

std::vector<JournaledMetricRow> journal_rows(const std::vector<MetricRow>& rows) {
  std::vector<JournaledMetricRow> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back({"row step=" + std::to_string(row.step), format_metric_row(row)});
  }
  return out;
}

}  // namespace

RunWriter::RunWriter(ConnectDatabase connect, std::unique_ptr<db::Database> db,
                     JournalHeader header, MetricWriteOptions options, RejectLog& rejects,
                     std::function<std::string(LineOrigin)> describe_origin)
    : connect_(std::move(connect)),
      db_(std::move(db)),
      header_(std::move(header)),
      options_(std::move(options)),
      rejects_(rejects),
      describe_origin_(std::move(describe_origin)),
      queue_(options_.memory_rows, options_.spill_path) {
  header_.add_columns = options_.add_columns;
  outcome_.run_id = header_.run_id;
  if (!header_.run_id) {
    // The run row itself could not be written: the journal holds it from the first moment,
    // so even a wrapper killed right away leaves the run to `sqltrack sync`.
    if (!options_.journal_path.empty()) {
      try {
        journal_ = std::make_unique<JournalWriter>(options_.journal_path, header_);
        replayed_to_ = journal_->size();
        journaling_ = true;
      } catch (const Error& e) {
        warn(std::string(e.what()) + "; the run waits in memory for the database");
        journal_failed_ = true;
      }
    }
    next_retry_ = std::chrono::steady_clock::now() + kFirstRetry;
    warned_away_ = true;  // the wrapper said so when the run could not be started
  }
}

RunWriter::~RunWriter() {
  finish(std::nullopt);
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

void RunWriter::post(RunEvent event) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back({std::move(event), {}});
  }
  wake_.notify_one();
}

void RunWriter::post_task(Task task) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back({std::nullopt, std::move(task)});
  }
  wake_.notify_one();
}

void RunWriter::add(PendingMetricRow row) {
  if (queue_.push(std::move(row)) == options_.batch_rows) wake_.notify_one();
}

RunWriterOutcome RunWriter::finish(std::optional<RunEvent> final_event) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      if (thread_.joinable()) thread_.join();
      return outcome_;
    }
    stopping_ = true;
    final_event_ = std::move(final_event);
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    run();  // never started (the command did not run): write what there is here
  }
  return outcome_;
}

bool RunWriter::direct() const {
  return db_ && header_.run_id && !journaling_ && held_.empty();
}

void RunWriter::run() {
  std::chrono::steady_clock::time_point give_up_at{};
  for (;;) {
    std::vector<Posted> posted;
    bool stopping;
    {
      std::unique_lock lock(mutex_);
      auto wait = options_.flush_interval;
      if (!direct() && !access_denied_) {
        wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                  next_retry_ - std::chrono::steady_clock::now()));
      }
      wake_.wait_for(lock, std::max(wait, std::chrono::milliseconds(0)), [&] {
        return stopping_ || !posted_.empty() || queue_.size() >= options_.batch_rows;
      });
      posted.swap(posted_);
      stopping = stopping_;
    }
    if (!direct() && !access_denied_ && std::chrono::steady_clock::now() >= next_retry_) {
      try_reconnect();
    }
    for (auto& item : posted) {
      if (item.event) {
        deliver(*item.event);
      } else if (direct()) {
        item.task(*db_, *header_.run_id);
      }
    }
    flush_metrics(stopping);
    if (!stopping) continue;

    // Stopping: everything the job wrote is queued; the final event goes after every row.
    bool rows_left = queue_.size() > 0 || !pending_.empty();
    if (!rows_left && final_event_) {
      deliver(*final_event_);
      final_event_.reset();
    }
    {
      std::lock_guard lock(mutex_);
      if (!posted_.empty()) continue;
    }
    if (direct() && !rows_left && !final_event_) {
      if (journal_) journal_->remove();  // everything in it is stored
      journal_.reset();
      break;
    }
    if (direct() && rows_left) {
      // Connected, yet rows stay (a spill file that cannot be read back): do not spin.
      keep_unstored("not stored: the wrapper could not read them back");
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    if (give_up_at == std::chrono::steady_clock::time_point{}) {
      give_up_at = now + options_.final_retry;
    }
    if (access_denied_ || now >= give_up_at) {
      give_up();
      break;
    }
    std::this_thread::sleep_until(std::min(std::max(next_retry_, now + kFirstRetry), give_up_at));
  }
}

void RunWriter::deliver(const RunEvent& event) {
  if (direct()) {
    try {
      RunStore store(*db_);
      apply_run_event(store, *header_.run_id, event, false);
      return;
    } catch (const DatabaseError& e) {
      if (!e.retryable()) {
        warn("cannot record a status change of run " + std::to_string(*header_.run_id) + ": " +
             e.what());
        return;
      }
      lose_connection(e);
    } catch (const Error& e) {
      warn("cannot record a status change of run " + std::to_string(*header_.run_id) + ": " +
           e.what());
      return;
    }
  }
  keep(event);
}

void RunWriter::keep(JournalRecord record) {
  if (!journal_failed_ && !options_.journal_path.empty()) {
    try {
      if (!journal_) {
        journal_ = std::make_unique<JournalWriter>(options_.journal_path, header_);
        replayed_to_ = journal_->size();
      }
      journal_->append(record);
      journaling_ = true;
      sync_journal_now_and_then();
      return;
    } catch (const Error& e) {
      warn(std::string(e.what()) + "; what the database has not taken waits in memory");
      journal_failed_ = true;
    }
  }
  held_.push_back(std::move(record));
}

void RunWriter::sync_journal_now_and_then() {
  // write() protects against the wrapper's death; once a second, also against the machine's.
  auto now = std::chrono::steady_clock::now();
  if (now - last_sync_ < std::chrono::seconds(1)) return;
  last_sync_ = now;
  journal_->sync();
}

void RunWriter::flush_metrics(bool stopping) {
  while (direct() && (queue_.size() > 0 || !pending_.empty())) {
    if (!metrics_) {
      try {
        load_metric_columns();
      } catch (const DatabaseError& e) {
        if (e.retryable()) {
          lose_connection(e);  // the rows wait in the queue and go to the journal below
          break;
        }
        if (!columns_unreadable_) {
          warn("cannot read the columns of the metrics table: " + std::string(e.what()));
          columns_unreadable_ = true;
        }
        keep_unstored("not stored: the columns of the metrics table cannot be read");
        break;
      }
    }
    if (pending_.empty()) {
      std::vector<PendingMetricRow> taken =
          queue_.take(std::max(options_.batch_rows * 10, kRowsPerChunk));
      if (taken.empty()) break;
      MetricBatch batch;
      std::size_t checked = 0;
      try {
        for (; checked < taken.size(); ++checked) {
          auto& row = taken[checked];
          metrics_->check(*db_, std::move(row.row), batch, [&] { return where(row.origin); });
        }
      } catch (const DatabaseError& e) {
        // Adding a column met a database that went away: the rows checked so far and the
        // rest of the chunk go to the journal, in order.
        lose_connection(e);
        keep(MetricRecord{journal_rows(batch.take().rows)});
        MetricRecord rest;
        for (std::size_t i = checked; i < taken.size(); ++i) {
          rest.rows.push_back({where(taken[i].origin), format_metric_row(taken[i].row)});
        }
        keep(std::move(rest));
        break;
      }
      pending_ = batch.take().rows;
    }
    if (!write_pending()) break;
    // Between batches, a posted event (heartbeat) should not wait for a long backlog.
    if (!stopping) break;
  }
  if (direct() || journal_failed_ || options_.journal_path.empty()) return;
  // Away: the rows go to the journal, in the order they came.
  if (!pending_.empty()) {
    keep(MetricRecord{journal_rows(pending_)});
    pending_.clear();
  }
  while (!journal_failed_) {
    std::vector<PendingMetricRow> taken = queue_.take(kRowsPerChunk);
    if (taken.empty()) break;
    MetricRecord record;
    record.rows.reserve(taken.size());
    for (const auto& row : taken) {
      record.rows.push_back({where(row.origin), format_metric_row(row.row)});
    }
    keep(std::move(record));
  }
}

bool RunWriter::write_pending() {
  if (pending_.empty()) return true;
  try {
    rows_written_ += metrics_->store(*db_, *header_.run_id, pending_);
    pending_.clear();
    return true;
  } catch (const DatabaseError& e) {
    if (e.retryable()) {
      lose_connection(e);
      return false;
    }
    // Not a row's fault (the isolation in store() would have found it): keep them, say why.
    for (const auto& row : pending_) {
      rejects_.keep("row step=" + std::to_string(row.step), "not stored: " + one_line(e.what()),
                    format_metric_row(row));
    }
    pending_.clear();
    return true;
  } catch (const Error& e) {
    for (const auto& row : pending_) {
      rejects_.keep("row step=" + std::to_string(row.step), "not stored: " + one_line(e.what()),
                    format_metric_row(row));
    }
    pending_.clear();
    return true;
  }
}

void RunWriter::load_metric_columns() {
  // Asked for at the first row rather than at the start: a job that writes no metrics, and
  // the start of every job, do without the query.
  if (!metrics_) {
    metrics_.emplace(MetricColumns::load(*db_), options_.add_columns, options_.batch_rows,
                     rejects_);
  }
}

void RunWriter::lose_connection(const DatabaseError& e) {
  db_.reset();  // a connection that failed once is not trusted again: a new one replaces it
  if (!warned_away_) {
    std::string where = !options_.journal_path.empty() && !journal_failed_
                            ? "; the run is journaled in " + options_.journal_path.string() +
                                  " and stored when it answers"
                            : "; what it has not taken waits in memory";
    warn("cannot write to the database now (" + std::string(e.what()) + ")" + where);
    warned_away_ = true;
  }
  // Exponential backoff with jitter: many wrappers that lost one server do not return in step.
  std::uniform_int_distribution<long> spread(retry_delay_.count() / 2, retry_delay_.count());
  next_retry_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(spread(jitter_));
  retry_delay_ = std::min(retry_delay_ * 2, kLongestRetry);
}

void RunWriter::try_reconnect() {
  try {
    if (!db_) db_ = connect_();
    if (!header_.run_id) {
      RunIds ids = replay_journal_header(*db_, header_);
      header_.run_id = ids.run_id;
      outcome_.run_id = ids.run_id;
      std::cerr << "sqltrack-run: the database answers; this is run " << ids.run_id << '\n';
    }
    std::size_t replayed = 0;
    if ((journaling_ && journal_) || !held_.empty()) load_metric_columns();
    if (journaling_ && journal_) {
      JournalContents contents = read_journal(journal_->path(), replayed_to_);
      auto counts = replay_journal_records(*db_, *header_.run_id, contents.records, *metrics_);
      rows_written_ += counts.rows_stored;
      replayed += contents.records.size();
      replayed_to_ = contents.end_offset;
    }
    while (!held_.empty()) {
      auto counts = replay_journal_records(*db_, *header_.run_id, {held_.front()}, *metrics_);
      rows_written_ += counts.rows_stored;
      held_.pop_front();
      ++replayed;
    }
    journaling_ = false;
    journal_failed_ = false;  // everything it should have held is stored: try it again next time
    retry_delay_ = kFirstRetry;
    if (warned_away_) {
      std::cerr << "sqltrack-run: the database answers again; " << replayed
                << " journaled records stored\n";
      warned_away_ = false;
    }
  } catch (const DatabaseError& e) {
    if (!e.retryable()) {
      access_denied_ = true;
      db_.reset();
      warn(std::string(e.what()) + "; not retried");
      return;
    }
    lose_connection(e);
  } catch (const Error& e) {
    // The run cannot be written at all (a --run-id that ended meanwhile): stop trying.
    access_denied_ = true;
    db_.reset();
    warn(std::string(e.what()) + "; not retried");
  }
}

void RunWriter::give_up() {
  if (journal_ && journaling_) {
    journal_->sync();
    outcome_.journal = journal_->path();
  }
  outcome_.all_stored = false;
  // What the journal could not take: rows to the reject file, events are lost (said so).
  std::size_t events_lost = 0;
  for (auto& record : held_) {
    if (auto* metrics = std::get_if<MetricRecord>(&record)) {
      for (const auto& row : metrics->rows) {
        rejects_.keep(row.origin, "not stored: the database was unavailable when the command ended",
                      row.line);
      }
    } else {
      ++events_lost;
    }
  }
  held_.clear();
  if (final_event_) ++events_lost;
  keep_unstored("not stored: the database was unavailable when the command ended");
  if (outcome_.journal) {
    warn("the database did not answer in time; the run is kept in the journal " +
         outcome_.journal->string() + ": `sqltrack sync` stores it");
  }
  if (events_lost > 0) {
    warn(std::to_string(events_lost) + " status changes of this run could not be recorded");
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
    for (const auto& row : rows) {
      rejects_.keep(where(row.origin), reason, format_metric_row(row.row));
    }
  }
}

}  // namespace sqltrack
