#include "sqltrack/wrapper/run_writer.hpp"

#include <csignal>
#include <iostream>
#include <utility>

#include <pthread.h>

#include "sqltrack/journal/journal_replay.hpp"
#include "sqltrack/metrics/metric_format.hpp"
#include "sqltrack/metrics/sql/metric_upsert.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/fault_injection.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack {
namespace {

constexpr std::chrono::milliseconds kFirstRetry{100};
constexpr std::chrono::milliseconds kLongestRetry{2000};
// Rows per journal record and per transaction: one commit (one disk flush) per ~10 000 rows.
constexpr std::size_t kRowsPerChunk = 10000;

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
      queue_(options_.memory_rows, options_.spill_path, [this](std::string_view line) {
        rejects_.keep("the spill file", "not stored: it could not be read back from the spill file",
                      line);
      }) {
  header_.add_columns = options_.add_columns;
  outcome_.run_id = header_.run_id;
  if (!db_ || !header_.run_id) {
    link_ = Link::away;
    next_retry_ = std::chrono::steady_clock::now() + kFirstRetry;
  }
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
  if (queue_.push(std::move(row)) != options_.batch_rows) return;
  // The writer looks at the queue under mutex_ before it waits: with mutex_ taken here, this
  // wakeup comes after that look, or before it and the look sees the rows.
  { std::lock_guard lock(mutex_); }
  wake_.notify_one();
}

void RunWriter::stop_retrying() {
  enter(Link::not_retried);
  said_not_retried_ = true;
}

void RunWriter::enter(Link next) {
  // A connection that failed once is not trusted again: a new one replaces it.
  if (next != Link::direct) db_.reset();
  if (link_ != Link::abandoned) link_ = next;  // abandoned is the end
}

void RunWriter::abandon() {
  {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
  }
  wake_.notify_one();
}

bool RunWriter::abandoned() {
  std::lock_guard lock(mutex_);
  return abandoned_;
}

RunWriterOutcome RunWriter::finish(std::optional<RunEvent> final_event) {
  // Not mutex_: the thread needs it to end, and a second caller waits here for the first.
  std::lock_guard finishing(finish_mutex_);
  if (finished_) return outcome_;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    final_event_ = std::move(final_event);
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    run();  // never started (the command did not run): write what there is here
  }
  if (abandoned()) {
    try {
      // What came after the writer stopped, the end among it.
      journal_everything_left();
      give_up("this run records no more after a failure of the wrapper's own");
    } catch (...) {
      report_internal_failure("the end of the run");
    }
  }
  finished_ = true;
  return outcome_;
}

void RunWriter::run() {
  try {
    write_until_stopped();
  } catch (...) {
    report_internal_failure("the run's database writer");
    std::lock_guard lock(mutex_);
    abandoned_ = true;
  }
  if (!abandoned()) return;
  try {
    journal_everything_left();
  } catch (...) {
    report_internal_failure("the run's database writer");
  }
}

void RunWriter::write_until_stopped() {
  std::chrono::steady_clock::time_point give_up_at{};
  for (;;) {
    bool stopping;
    {
      std::unique_lock lock(mutex_);
      auto wait = options_.flush_interval;
      if (link_ == Link::away) {
        wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                  next_retry_ - std::chrono::steady_clock::now()));
      }
      wake_.wait_for(lock, std::max(wait, std::chrono::milliseconds(0)), [&] {
        return stopping_ || abandoned_ || !posted_.empty() || queue_.size() >= options_.batch_rows;
      });
      if (abandoned_) return;
      for (auto& item : posted_) in_hand_.push_back(std::move(item));
      posted_.clear();
      stopping = stopping_;
    }
    if (link_ == Link::away && std::chrono::steady_clock::now() >= next_retry_) {
      try_reconnect();
    }
    // Each item leaves in_hand_ once done: after a failure the rest is still there.
    while (!in_hand_.empty()) {
      Posted& item = in_hand_.front();
      if (item.event) {
        deliver(*item.event);
      } else if (direct()) {
        item.task(*db_, *header_.run_id);
      }
      in_hand_.pop_front();
    }
    flush_metrics(stopping);
    if (!stopping) continue;

    // Stopping: everything the job wrote is queued; the final event goes after every row.
    bool rows_left = queue_.size() > 0 || !pending_.empty();
    if (!rows_left && final_event_) {
      fault_point("end");
      // Every row is stored or refused by now: the end carries the count of rejected lines.
      if (auto* finish = std::get_if<FinishEvent>(&*final_event_)) {
        finish->end.rejected_lines = static_cast<std::int64_t>(rejects_.rejected());
      }
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
    if (link_ == Link::not_retried || now >= give_up_at) {
      give_up(link_ == Link::not_retried ? "the database cannot take it"
                                         : "the database did not take everything in time");
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
      if (e.refused()) {
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
        if (!e.refused()) {
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
        // Adding a column met a database that cannot write now: the chunk goes to the journal.
        lose_connection(e);
        keep_unchecked(batch, taken, checked);
        break;
      } catch (...) {
        keep_unchecked(batch, taken, checked);
        throw;
      }
      pending_ = batch.take().rows;
    }
    if (!write_pending()) break;
    // Between batches, a posted event (heartbeat) should not wait for a long backlog.
    if (!stopping) break;
  }
  if (!direct()) journal_queued_rows();
}

// Away: the rows go to the journal, in the order they came.
void RunWriter::journal_queued_rows() {
  if (journal_failed_ || options_.journal_path.empty()) return;
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

// A chunk whose checking stopped at `checked`: the rows checked so far (merged in `batch`) and
// the rest, in order.
void RunWriter::keep_unchecked(MetricBatch& batch, const std::vector<PendingMetricRow>& taken,
                               std::size_t checked) {
  keep(MetricRecord{journal_rows(batch.take().rows)});
  MetricRecord rest;
  for (std::size_t i = checked; i < taken.size(); ++i) {
    rest.rows.push_back({where(taken[i].origin), format_metric_row(taken[i].row)});
  }
  keep(std::move(rest));
}

bool RunWriter::write_pending() {
  if (pending_.empty()) return true;
  fault_point("first_batch");
  try {
    count_stored(metrics_->store(*db_, *header_.run_id, pending_));
    pending_.clear();
    return true;
  } catch (const DatabaseError& e) {
    if (!e.refused()) {
      lose_connection(e);
      return false;
    }
    // Not a row's fault (the isolation in store() would have found it): keep them, say why.
    reject_pending("not stored: " + one_line(e.what()));
    return true;
  } catch (const Error& e) {
    reject_pending("not stored: " + one_line(e.what()));
    return true;
  }
}

void RunWriter::reject_pending(const std::string& reason) {
  for (const auto& row : pending_) {
    rejects_.keep("row step=" + std::to_string(row.step), reason, format_metric_row(row));
  }
  pending_.clear();
}

void RunWriter::load_metric_columns() {
  // Asked for at the first row rather than at the start: a job that writes no metrics, and
  // the start of every job, do without the query.
  if (!metrics_) {
    metrics_.emplace(MetricColumns::load(*db_), options_.add_columns, options_.batch_rows,
                     rejects_);
  }
}

std::string RunWriter::where_kept() const {
  if (!options_.journal_path.empty() && !journal_failed_) {
    return "the run is journaled in " + options_.journal_path.string();
  }
  return "what it has not taken waits in memory";
}

// Every write path comes here with a DatabaseError that is not a refused statement.
void RunWriter::lose_connection(const DatabaseError& e) {
  if (!e.retryable()) {
    stop_retrying_because(e.what());
    return;
  }
  enter(Link::away);
  if (!warned_away_) {
    warn("cannot write to the database now (" + std::string(e.what()) + "); " + where_kept() +
         " and stored when it answers");
    warned_away_ = true;
  }
  // Exponential backoff with jitter: many wrappers that lost one server do not return in step.
  std::uniform_int_distribution<long> spread(retry_delay_.count() / 2, retry_delay_.count());
  next_retry_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(spread(jitter_));
  retry_delay_ = std::min(retry_delay_ * 2, kLongestRetry);
}

// A read-only or removed file, refused credentials, a run that cannot be written: the same
// answer until someone changes the setup, so the run goes to the journal from here on.
void RunWriter::stop_retrying_because(const std::string& why) {
  enter(Link::not_retried);
  warned_away_ = true;
  if (said_not_retried_) return;
  said_not_retried_ = true;
  if (!options_.journal_path.empty() && !journal_failed_) {
    warn("cannot write to the database (" + why + "); not retried: the run is journaled in " +
         options_.journal_path.string() + ", and `sqltrack sync` stores it once that is fixed");
  } else {
    warn("cannot write to the database (" + why + "); not retried");
  }
}

void RunWriter::count_stored(std::uint64_t rows) {
  rows_written_ += rows;
  if (options_.on_stored && rows > 0) options_.on_stored(rows);
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
      count_stored(counts.rows_stored);
      replayed += contents.records.size();
      replayed_to_ = contents.end_offset;
    }
    while (!held_.empty()) {
      auto counts = replay_journal_records(*db_, *header_.run_id, {held_.front()}, *metrics_);
      count_stored(counts.rows_stored);
      held_.pop_front();
      ++replayed;
    }
    journaling_ = false;
    journal_failed_ = false;  // everything it should have held is stored: try it again next time
    enter(Link::direct);
    retry_delay_ = kFirstRetry;
    if (warned_away_) {
      std::cerr << "sqltrack-run: the database answers again; " << replayed
                << " journaled records stored\n";
      warned_away_ = false;
    }
  } catch (const DatabaseError& e) {
    if (e.refused()) {
      stop_retrying_because(e.what());
    } else {
      lose_connection(e);
    }
  } catch (const Error& e) {
    // The run cannot be written at all (a --run-id that ended meanwhile): stop trying.
    stop_retrying_because(e.what());
  }
}

// The end, with records the database has not taken: they stay in the journal; what the journal
// could not take goes to the reject file (rows) or is said to be lost (status changes).
void RunWriter::give_up(const std::string& why) {
  if (journal_ && journaling_) {
    try {
      journal_->sync();
    } catch (const Error& e) {
      warn(std::string(e.what()) + "; the journal may lack its last records");
    }
    outcome_.journal = journal_->path();
  }
  outcome_.all_stored = false;
  std::size_t events_lost = 0;
  for (auto& record : held_) {
    if (auto* metrics = std::get_if<MetricRecord>(&record)) {
      for (const auto& row : metrics->rows)
        rejects_.keep(row.origin, "not stored: " + why, row.line);
    } else {
      ++events_lost;
    }
  }
  held_.clear();
  if (final_event_) ++events_lost;
  final_event_.reset();
  keep_unstored("not stored: " + why);
  if (outcome_.journal && !said_not_retried_) {
    warn(why + "; the run is kept in the journal " + outcome_.journal->string() +
         ": `sqltrack sync` stores it");
  }
  if (events_lost > 0) {
    warn(counted(events_lost, "status change") + " of this run could not be recorded");
  }
}

// After a failure of the wrapper's own: nothing more goes to the database. What the writer
// holds and what was given to it since goes to the journal (or waits for the reject file).
void RunWriter::journal_everything_left() {
  enter(Link::abandoned);
  journal_queued_rows();
  std::optional<RunEvent> final_event;
  {
    std::lock_guard lock(mutex_);
    for (auto& item : posted_) in_hand_.push_back(std::move(item));
    posted_.clear();
    final_event = std::exchange(final_event_, std::nullopt);
  }
  while (!in_hand_.empty()) {
    if (in_hand_.front().event) keep(*in_hand_.front().event);
    in_hand_.pop_front();
  }
  if (final_event) keep(*final_event);
}

void RunWriter::keep_unstored(const std::string& reason) {
  reject_pending(reason);
  for (;;) {
    auto rows = queue_.take(options_.batch_rows * 10);
    if (rows.empty()) break;
    for (const auto& row : rows) {
      rejects_.keep(where(row.origin), reason, format_metric_row(row.row));
    }
  }
}

}  // namespace sqltrack
