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

#include "sqltrack/metrics/metric_batch.hpp"

namespace sqltrack {

// Splits a byte stream into lines. A line longer than max_bytes keeps its first bytes, the
// rest up to its end is only counted, so memory stays bounded; it is reported once, when it
// ends (its newline, finish or reset), with its whole length.
class LineSplitter {
 public:
  // line: the line without "\n". length: the line's whole length; more than line.size()
  // when it was too long and cut (line holds its first bytes).
  using Emit = std::function<void(std::string_view line, std::uint64_t length)>;

  explicit LineSplitter(std::size_t max_bytes = kMaxMetricLineBytes + 4) : max_bytes_(max_bytes) {}
  void feed(std::string_view bytes, const Emit& emit);
  // The writers are done: the last line, had it no "\n", is a line too.
  void finish(const Emit& emit);
  // Starts over: a partial line is dropped; one already too long is reported.
  void reset(const Emit& emit);

 private:
  std::size_t max_bytes_;
  std::string partial_;        // the current line so far, at most max_bytes_
  std::uint64_t skipped_ = 0;  // bytes of the current line beyond max_bytes_
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
  // The source's writers are done for now (end of file, or every writer of a FIFO closed
  // it): a last line without "\n" is a line of its own, and the next bytes start a new one.
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
  void on_line(std::uint32_t source, std::string_view line, std::uint64_t length);

  RowSink rows_;
  RejectSink rejects_;
  std::vector<Source> sources_;
  std::uint64_t lines_read_ = 0;
};

}  // namespace sqltrack
