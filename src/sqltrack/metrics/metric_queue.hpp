#pragma once
// Rows between the reader (event loop) and the writer thread. Bounded memory: past
// `memory_rows`, rows go to a spill file and come back in order when the writer catches up,
// so a slow database costs disk, not RAM, and never blocks the job's writes.

#include <cstddef>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

#include "sqltrack/metrics/metric_reader.hpp"

namespace sqltrack {

class MetricQueue {
 public:
  // Gets the text of a spilled row that could not be read back (the file was changed under
  // the wrapper): it is not lost without a trace. Called with the queue locked.
  using Unreadable = std::function<void(std::string_view line)>;

  MetricQueue(std::size_t memory_rows, std::filesystem::path spill_path,
              Unreadable unreadable = {});
  ~MetricQueue();
  MetricQueue(const MetricQueue&) = delete;
  MetricQueue& operator=(const MetricQueue&) = delete;

  // Returns the number of rows waiting after this one.
  std::size_t push(PendingMetricRow row);
  // Up to `max` of the oldest rows, in the order pushed.
  std::vector<PendingMetricRow> take(std::size_t max);
  std::size_t size() const;
  std::size_t spilled() const;  // rows in the spill file now

 private:
  // The spill file, opened for reading and writing; nullptr (after a warning) when it cannot be.
  std::FILE* open_spill() const;
  void spill(const PendingMetricRow& row);
  void read_spilled(std::size_t max, std::vector<PendingMetricRow>& out);
  void close_spill();
  void report_unreadable(std::string_view line);

  mutable std::mutex mutex_;
  std::size_t memory_rows_;
  std::filesystem::path spill_path_;
  Unreadable unreadable_;
  std::deque<PendingMetricRow> memory_;
  // Rows that came while spilled rows wait but the spill file failed: they follow those.
  std::deque<PendingMetricRow> after_spill_;
  std::FILE* spill_ = nullptr;  // opened when rows start to spill, removed when drained
  long read_offset_ = 0;
  std::size_t spilled_ = 0;
  bool spill_failed_ = false;
};

}  // namespace sqltrack
