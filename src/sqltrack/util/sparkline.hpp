#pragma once
// Sparklines: a series of numbers drawn as a row of block characters, one per value, for the
// metric column of `sqltrack-run status --metric`.

#include <cstddef>
#include <span>
#include <string>

namespace sqltrack {

// How many points a status sparkline shows: a longer series is averaged down to this many.
inline constexpr std::size_t kSparklinePoints = 20;

// One of ▁▂▃▄▅▆▇█ per value, scaled between the finite minimum (▁) and maximum (█) of the
// series. A flat series is a row of ▄; a value that is not finite (NaN, inf) is a blank.
std::string sparkline(std::span<const double> values);

// A metric value for a table cell: four significant digits ("0.1235", "1.235e+06", "nan").
std::string short_number(double value);

}  // namespace sqltrack
