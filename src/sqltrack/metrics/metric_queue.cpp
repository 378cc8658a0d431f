#include "sqltrack/metrics/metric_queue.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <variant>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "sqltrack/metrics/metric_format.hpp"
#include "sqltrack/metrics/protocol.hpp"
#include "sqltrack/util/output_file.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack {

MetricQueue::MetricQueue(std::size_t memory_rows, std::filesystem::path spill_path,
                         Unreadable unreadable)
    : memory_rows_(memory_rows),
      spill_path_(std::move(spill_path)),
      unreadable_(std::move(unreadable)) {}

void MetricQueue::report_unreadable(std::string_view line) {
  if (unreadable_) {
    unreadable_(line);
    return;
  }
  std::cerr << "sqltrack-run: warning: a row in the spill file " << spill_path_.string()
            << " could not be read back and is lost: " << line.substr(0, 200) << '\n';
}

MetricQueue::~MetricQueue() {
  close_spill();
}

void MetricQueue::close_spill() {
  if (!spill_) return;
  std::fclose(spill_);
  spill_ = nullptr;
  std::error_code ignored;
  std::filesystem::remove(spill_path_, ignored);
}

std::size_t MetricQueue::push(PendingMetricRow row) {
  std::lock_guard lock(mutex_);
  // Once rows spill, later rows follow them into the file, so the order is kept.
  if ((spilled_ > 0 || memory_.size() >= memory_rows_) && !spill_failed_) {
    spill(row);
    if (!spill_failed_) return memory_.size() + spilled_ + after_spill_.size();
  }
  if (spilled_ > 0) {
    after_spill_.push_back(std::move(row));
  } else {
    memory_.push_back(std::move(row));
  }
  return memory_.size() + spilled_ + after_spill_.size();
}

std::FILE* MetricQueue::open_spill() const {
  std::string error;
  try {
    // The queued rows are the user's: 0600, and never through a link.
    OutputFile file = open_output_file(spill_path_, O_RDWR, IfExists::overwrite, kPrivateFileMode);
    if (std::FILE* stream = ::fdopen(file.fd, "w+")) return stream;
    error = std::strerror(errno);
    ::close(file.fd);
  } catch (const OutputFileError& e) {
    error = e.reason();
  }
  // Memory is the fallback: holding rows beats losing them.
  std::cerr << "sqltrack-run: warning: cannot create the spill file " << spill_path_.string()
            << ": " << error << "; queued metrics stay in memory\n";
  return nullptr;
}

void MetricQueue::spill(const PendingMetricRow& row) {
  if (!spill_) {
    spill_ = open_spill();
    if (!spill_) {
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
  if (!spill_ || std::fflush(spill_) != 0 || std::fseek(spill_, read_offset_, SEEK_SET) != 0) {
    std::cerr << "sqltrack-run: warning: cannot read back the spill file " << spill_path_.string()
              << ": " << std::strerror(errno) << "; " << counted(spilled_, "metric row")
              << (spilled_ == 1 ? " is" : " are") << " lost\n";
    spilled_ = 0;
    close_spill();
    return;
  }
  char* buffer = nullptr;
  std::size_t capacity = 0;
  while (out.size() < max && spilled_ > 0) {
    ssize_t length = ::getline(&buffer, &capacity, spill_);
    if (length <= 0) {
      std::cerr << "sqltrack-run: warning: the spill file " << spill_path_.string()
                << " ended early; " << counted(spilled_, "metric row")
                << (spilled_ == 1 ? " is" : " are") << " lost\n";
      spilled_ = 0;
      break;
    }
    std::string_view line(buffer, static_cast<std::size_t>(length));
    if (line.back() == '\n') line.remove_suffix(1);
    --spilled_;
    // "<source> <line> step=... progress=... ...": written above, so it parses.
    PendingMetricRow row;
    const char* p = line.data();
    const char* end = line.data() + line.size();
    auto source = std::from_chars(p, end, row.origin.source);
    auto number = source.ec == std::errc() && source.ptr != end && *source.ptr == ' '
                      ? std::from_chars(source.ptr + 1, end, row.origin.line)
                      : std::from_chars_result{end, std::errc::invalid_argument};
    if (number.ec != std::errc() || number.ptr == end || *number.ptr != ' ') {
      report_unreadable(line);
      continue;
    }
    std::string_view text(number.ptr + 1, static_cast<std::size_t>(end - number.ptr - 1));
    MetricParseResult parsed = parse_metric_line(text, std::string::npos - 1);
    auto* metric = std::get_if<MetricLine>(&parsed);
    if (!metric) {
      report_unreadable(text);
      continue;
    }
    row.row.step = metric->step.value_or(0);
    row.row.progress = metric->progress.value_or(0.0);
    row.row.values = std::move(metric->values);
    out.push_back(std::move(row));
  }
  std::free(buffer);
  read_offset_ = std::ftell(spill_);
  if (spilled_ == 0) {
    // All read back: start the file over so it does not grow for the whole run.
    close_spill();
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
  if (spilled_ == 0 && !after_spill_.empty()) {
    for (auto& row : after_spill_) memory_.push_back(std::move(row));
    after_spill_.clear();
    while (out.size() < max && !memory_.empty()) {
      out.push_back(std::move(memory_.front()));
      memory_.pop_front();
    }
  }
  return out;
}

std::size_t MetricQueue::size() const {
  std::lock_guard lock(mutex_);
  return memory_.size() + spilled_ + after_spill_.size();
}

std::size_t MetricQueue::spilled() const {
  std::lock_guard lock(mutex_);
  return spilled_;
}

}  // namespace sqltrack
