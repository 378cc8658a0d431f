#include "sqltrack/metric_reader.hpp"

#include <variant>

namespace sqltrack {

void LineSplitter::feed(std::string_view bytes, const Emit& emit) {
  while (!bytes.empty()) {
    std::size_t newline = bytes.find('\n');
    std::string_view piece = bytes.substr(0, newline);
    if (skipping_) {
      // The rest of a line already reported as too long.
    } else if (partial_.size() + piece.size() > max_bytes_) {
      std::size_t room = max_bytes_ - partial_.size();
      partial_.append(piece.substr(0, room));
      emit(partial_, true);
      partial_.clear();
      skipping_ = true;
    } else if (newline != std::string_view::npos && partial_.empty()) {
      emit(piece, false);  // the common case: a whole line in the buffer, no copy
    } else {
      partial_.append(piece);
      if (newline != std::string_view::npos) {
        emit(partial_, false);
        partial_.clear();
      }
    }
    if (newline == std::string_view::npos) return;
    skipping_ = false;
    bytes.remove_prefix(newline + 1);
  }
}

void LineSplitter::finish(const Emit& emit) {
  if (!partial_.empty() && !skipping_) emit(partial_, false);
  reset();
}

void LineSplitter::reset() {
  partial_.clear();
  skipping_ = false;
}

std::uint32_t MetricReader::add_source(std::string name) {
  sources_.push_back(Source{std::move(name), LineSplitter(), MetricStream(), 0});
  return static_cast<std::uint32_t>(sources_.size() - 1);
}

void MetricReader::feed(std::uint32_t source, std::string_view bytes) {
  sources_.at(source).splitter.feed(
      bytes, [&](std::string_view line, bool too_long) { on_line(source, line, too_long); });
}

void MetricReader::finish(std::uint32_t source) {
  sources_.at(source).splitter.finish(
      [&](std::string_view line, bool too_long) { on_line(source, line, too_long); });
}

void MetricReader::restart(std::uint32_t source) {
  sources_.at(source).splitter.reset();
}

void MetricReader::on_line(std::uint32_t source, std::string_view line, bool too_long) {
  Source& s = sources_[source];
  LineOrigin origin{source, ++s.lines};
  ++lines_read_;
  if (too_long) {
    rejects_(
        origin,
        "line longer than " + std::to_string(kMaxMetricLineBytes) + " bytes (first bytes kept)",
        line);
    return;
  }
  MetricParseResult parsed = parse_metric_line(line);
  if (auto* error = std::get_if<MetricParseError>(&parsed)) {
    rejects_(origin, "column " + std::to_string(error->column) + ": " + error->reason, line);
  } else if (auto* metric = std::get_if<MetricLine>(&parsed)) {
    rows_(PendingMetricRow{s.stream.to_row(std::move(*metric)), origin});
  }
}

}  // namespace sqltrack
