#include "sqltrack/metrics/metric_reader.hpp"

#include <algorithm>
#include <variant>

namespace sqltrack {

void LineSplitter::feed(std::string_view bytes, const Emit& emit) {
  while (!bytes.empty()) {
    std::size_t newline = bytes.find('\n');
    std::string_view piece = bytes.substr(0, newline);
    if (skipped_ > 0 || partial_.size() + piece.size() > max_bytes_) {
      // Too long: keep the first bytes, count the rest.
      std::size_t kept = std::min(max_bytes_ - partial_.size(), piece.size());
      partial_.append(piece.substr(0, kept));
      skipped_ += piece.size() - kept;
      if (newline != std::string_view::npos) finish(emit);
    } else if (newline != std::string_view::npos && partial_.empty()) {
      emit(piece, piece.size());  // the common case: a whole line in the buffer, no copy
    } else {
      partial_.append(piece);
      if (newline != std::string_view::npos) finish(emit);
    }
    if (newline == std::string_view::npos) return;
    bytes.remove_prefix(newline + 1);
  }
}

void LineSplitter::finish(const Emit& emit) {
  if (!partial_.empty() || skipped_ > 0) emit(partial_, partial_.size() + skipped_);
  partial_.clear();
  skipped_ = 0;
}

void LineSplitter::reset(const Emit& emit) {
  if (skipped_ > 0) emit(partial_, partial_.size() + skipped_);
  partial_.clear();
  skipped_ = 0;
}

std::uint32_t MetricReader::add_source(std::string name) {
  sources_.push_back(Source{std::move(name), LineSplitter(), MetricStream(), 0});
  return static_cast<std::uint32_t>(sources_.size() - 1);
}

void MetricReader::feed(std::uint32_t source, std::string_view bytes) {
  sources_.at(source).splitter.feed(
      bytes, [&](std::string_view line, std::uint64_t length) { on_line(source, line, length); });
}

void MetricReader::finish(std::uint32_t source) {
  sources_.at(source).splitter.finish(
      [&](std::string_view line, std::uint64_t length) { on_line(source, line, length); });
}

void MetricReader::restart(std::uint32_t source) {
  sources_.at(source).splitter.reset(
      [&](std::string_view line, std::uint64_t length) { on_line(source, line, length); });
}

void MetricReader::on_line(std::uint32_t source, std::string_view line, std::uint64_t length) {
  Source& s = sources_[source];
  LineOrigin origin{source, ++s.lines};
  ++lines_read_;
  if (length > line.size()) {
    rejects_(origin,
             "line longer than " + std::to_string(kMaxMetricLineBytes) + " bytes (" +
                 std::to_string(length) + " bytes; first bytes kept)",
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
