#pragma once
// Comparing metric values in tests: the same kind, and for doubles the same bits (so -0.0 is
// not 0.0), with every NaN equal to every NaN.
#include <bit>
#include <cmath>
#include <cstdint>
#include <variant>

#include "sqltrack/metrics/protocol.hpp"

namespace sqltrack::test {

inline bool same_metric_value(const MetricValue& a, const MetricValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<double>(&a)) {
    const double y = std::get<double>(b);
    return (std::isnan(*x) && std::isnan(y)) ||
           std::bit_cast<std::uint64_t>(*x) == std::bit_cast<std::uint64_t>(y);
  }
  return a == b;
}

}  // namespace sqltrack::test
