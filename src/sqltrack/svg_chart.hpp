#pragma once
// Line charts as inline SVG for the HTML report: one polyline per series, axes with a few
// tick labels, a legend. Plain SVG 1.1 that any browser shows without scripts or fonts.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sqltrack {

// The fill of the plot area: a color used nowhere else in the report, so a picture of the
// page shows where the plot area is.
inline constexpr std::string_view kPlotBackground = "#f6f8fa";

// The color of series `index` as "#rrggbb": ten well-separated colors, then hues spread by the
// golden angle.
std::string series_color(std::size_t index);

// Text safe inside HTML/SVG elements and quoted attributes: & < > " ' escaped.
std::string xml_escape(std::string_view text);

struct ChartPoint {
  double x = 0;
  double y = 0;
};

struct ChartSeries {
  std::string label;
  std::string color;
  std::vector<ChartPoint> points;  // points with a non-finite coordinate are left out
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::vector<ChartSeries> series;
};

// Tick positions for an axis over [low, high]: about `target` round values (1, 2 or 5 times a
// power of ten apart), from the first multiple of the spacing at or above `low`.
std::vector<double> axis_ticks(double low, double high, std::size_t target);

// A tick's label, with as many decimals as the spacing needs ("0.25", "1500", "1e+08").
std::string tick_label(double value, double spacing);

// An <svg> element: title, plot area, grid, tick labels, one <polyline> per series (a dot too
// when it has a single point) and a legend on the right.
std::string render_line_chart_svg(const LineChart& chart);

}  // namespace sqltrack
