#pragma once
// From bytes to metric rows, per source: split lines, count them, parse them, and fill in
// each source's step and progress. Pure (no I/O), so it is tested without processes; the
// sources in metric_sources.hpp feed it from the event loop.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/metric_batch.hpp"

namespace sqltrack {

// Splits a byte stream into lines. A line longer than max_bytes is reported once (with its
// first bytes) and skipped up to its newline, so memory stays bounded.
class LineSplitter {
 public:
  // line: the line without "\n"; too_long: the line was cut (line holds its first bytes).
  using Emit = std::function<void(std::string_view line, bool too_long)>;

  explicit LineSplitter(std::size_t max_bytes = kMaxMetricLineBytes + 4) : max_bytes_(max_bytes) {}
  void feed(std::string_view bytes, const Emit& emit);
  // The last line when the stream ended without "\n".
  void finish(const Emit& emit);
  void reset();

 private:
  std::size_t max_bytes_;
  std::string partial_;
  bool skipping_ = false;
};

// Where a row or a rejected line came from: the source's name (SQLTRACK_METRICS, a file's
// path, fd 5) and the line's 1-based number in it.
struct LineOrigin {
  std::uint32_t source = 0;
  std::uint64_t line = 0;
};

struct PendingMetricRow {
  MetricRow row;
  LineOrigin origin;
};

class MetricReader {
 public:
  using RowSink = std::function<void(PendingMetricRow)>;
  using RejectSink =
      std::function<void(LineOrigin origin, std::string_view reason, std::string_view line)>;

  MetricReader(RowSink rows, RejectSink rejects)
      : rows_(std::move(rows)), rejects_(std::move(rejects)) {}

  std::uint32_t add_source(std::string name);
  const std::string& source_name(std::uint32_t source) const { return sources_.at(source).name; }

  void feed(std::uint32_t source, std::string_view bytes);
  void finish(std::uint32_t source);
  // A file source was truncated or replaced: a partial line is dropped, numbering goes on.
  void restart(std::uint32_t source);

  std::uint64_t lines_read() const noexcept { return lines_read_; }

 private:
  struct Source {
    std::string name;
    LineSplitter splitter;
    MetricStream stream;
    std::uint64_t lines = 0;
  };
  void on_line(std::uint32_t source, std::string_view line, bool too_long);

  RowSink rows_;
  RejectSink rejects_;
  std::vector<Source> sources_;
  std::uint64_t lines_read_ = 0;
};

}  // namespace sqltrack
