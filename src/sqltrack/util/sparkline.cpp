#include "sqltrack/util/sparkline.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace sqltrack {

std::string sparkline(std::span<const double> values) {
  static constexpr std::array<const char*, 8> kBlocks = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  double low = std::numeric_limits<double>::infinity();
  double high = -low;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    low = std::min(low, v);
    high = std::max(high, v);
  }
  std::string line;
  for (double v : values) {
    if (!std::isfinite(v)) {
      line += ' ';
    } else if (!(high > low)) {
      line += kBlocks[3];
    } else {
      // (high - low) may overflow to inf for extreme values: scale each side first.
      double position = (v / 2 - low / 2) / (high / 2 - low / 2);
      auto level = static_cast<std::size_t>(std::lround(std::clamp(position, 0.0, 1.0) * 7));
      line += kBlocks[level];
    }
  }
  return line;
}

std::string short_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

}  // namespace sqltrack
