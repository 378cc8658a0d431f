#include "sqltrack/metric_queue.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <iostream>
#include <variant>

#include "sqltrack/metric_format.hpp"
#include "sqltrack/protocol.hpp"

namespace sqltrack {

MetricQueue::MetricQueue(std::size_t memory_rows, std::filesystem::path spill_path)
    : memory_rows_(memory_rows), spill_path_(std::move(spill_path)) {}

MetricQueue::~MetricQueue() {
  if (spill_) {
    std::fclose(spill_);
    std::error_code ignored;
    std::filesystem::remove(spill_path_, ignored);
  }
}

std::size_t MetricQueue::push(PendingMetricRow row) {
  std::lock_guard lock(mutex_);
  // Once rows spill, later rows follow them into the file, so the order is kept.
  if ((spilled_ > 0 || memory_.size() >= memory_rows_) && !spill_failed_) {
    spill(row);
    if (!spill_failed_) return memory_.size() + spilled_;
  }
  memory_.push_back(std::move(row));
  return memory_.size() + spilled_;
}

void MetricQueue::spill(const PendingMetricRow& row) {
  if (!spill_) {
    spill_ = std::fopen(spill_path_.c_str(), "w+");
    if (!spill_) {
      // Memory is the fallback: holding rows beats losing them.
      std::cerr << "sqltrack-run: warning: cannot create the spill file " << spill_path_.string()
                << ": " << std::strerror(errno) << "; queued metrics stay in memory\n";
      spill_failed_ = true;
      return;
    }
    read_offset_ = 0;
  }
  std::string line = std::to_string(row.origin.source) + ' ' + std::to_string(row.origin.line) +
                     ' ' + format_metric_row(row.row) + '\n';
  if (std::fseek(spill_, 0, SEEK_END) != 0 ||
      std::fwrite(line.data(), 1, line.size(), spill_) != line.size()) {
    std::cerr << "sqltrack-run: warning: cannot write the spill file " << spill_path_.string()
              << ": " << std::strerror(errno) << "; queued metrics stay in memory\n";
    spill_failed_ = true;
    return;
  }
  ++spilled_;
}

void MetricQueue::read_spilled(std::size_t max, std::vector<PendingMetricRow>& out) {
  if (std::fflush(spill_) != 0 || std::fseek(spill_, read_offset_, SEEK_SET) != 0) return;
  std::string line;
  while (out.size() < max && spilled_ > 0) {
    line.clear();
    int c;
    while ((c = std::fgetc(spill_)) != EOF && c != '\n') line += static_cast<char>(c);
    if (c == EOF && line.empty()) break;
    --spilled_;
    // "<source> <line> step=... progress=... ...": written above, so it parses.
    PendingMetricRow row;
    const char* p = line.data();
    const char* end = line.data() + line.size();
    auto source = std::from_chars(p, end, row.origin.source);
    auto number = std::from_chars(source.ptr + 1, end, row.origin.line);
    MetricParseResult parsed = parse_metric_line(std::string_view(number.ptr + 1, end));
    if (auto* metric = std::get_if<MetricLine>(&parsed)) {
      row.row.step = metric->step.value_or(0);
      row.row.progress = metric->progress.value_or(0.0);
      row.row.values = std::move(metric->values);
      out.push_back(std::move(row));
    }
  }
  read_offset_ = std::ftell(spill_);
  if (spilled_ == 0) {
    // All read back: start the file over so it does not grow for the whole run.
    std::fclose(spill_);
    spill_ = nullptr;
  }
}

std::vector<PendingMetricRow> MetricQueue::take(std::size_t max) {
  std::lock_guard lock(mutex_);
  std::vector<PendingMetricRow> out;
  std::size_t count = std::min(max, memory_.size());
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(std::move(memory_.front()));
    memory_.pop_front();
  }
  if (out.size() < max && spilled_ > 0 && memory_.empty()) read_spilled(max, out);
  return out;
}

std::size_t MetricQueue::size() const {
  std::lock_guard lock(mutex_);
  return memory_.size() + spilled_;
}

std::size_t MetricQueue::spilled() const {
  std::lock_guard lock(mutex_);
  return spilled_;
}

}  // namespace sqltrack
