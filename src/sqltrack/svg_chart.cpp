#include "sqltrack/svg_chart.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace sqltrack {
namespace {

// Chart geometry in CSS pixels.
constexpr double kPlotLeft = 72, kPlotTop = 40, kPlotWidth = 600, kPlotHeight = 300;
constexpr double kLegendLeft = kPlotLeft + kPlotWidth + 24, kLegendRow = 20;
constexpr double kWidth = kLegendLeft + 180, kBottomMargin = 52;

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();

  void add(double v) {
    if (!std::isfinite(v)) return;
    low = std::min(low, v);
    high = std::max(high, v);
  }
};

// 1, 2 or 5 times a power of ten, about (high - low) / target; 0 when there is no such number.
double nice_spacing(double low, double high, std::size_t target) {
  if (!std::isfinite(low) || !std::isfinite(high) || !(high > low) || target == 0) return 0;
  double raw = (high - low) / static_cast<double>(target);
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double normalized = raw / magnitude;
  double spacing = (normalized < 1.5 ? 1
                    : normalized < 3 ? 2
                    : normalized < 7 ? 5
                                     : 10) *
                   magnitude;
  return std::isfinite(spacing) && spacing > 0 ? spacing : 0;
}

std::vector<double> ticks_between(double low, double high, double spacing) {
  std::vector<double> ticks;
  if (!(spacing > 0)) return ticks;
  double first = std::ceil(low / spacing - 1e-9) * spacing;
  for (double tick = first; tick <= high + spacing * 1e-9 && ticks.size() < 50;
       tick = first + spacing * static_cast<double>(ticks.size())) {
    // A tick at 0 computed as -1e-17 would print as "-0".
    ticks.push_back(std::abs(tick) < spacing * 1e-9 ? 0.0 : tick);
  }
  return ticks;
}

// An axis over the data: its range widened to the round values around the data, and never
// empty.
struct Axis {
  Range range;
  std::vector<double> ticks;
  double spacing = 0;

  static Axis over(Range data) {
    if (!std::isfinite(data.low)) data = {0, 1};
    if (!(data.high > data.low)) {
      double half = data.low == 0 ? 1 : std::abs(data.low) * 0.1;
      data = {data.low - half, data.high + half};
    }
    Axis axis;
    axis.spacing = nice_spacing(data.low, data.high, 5);
    axis.range = data;
    if (axis.spacing > 0) {
      axis.range.low = std::floor(data.low / axis.spacing + 1e-9) * axis.spacing;
      axis.range.high = std::ceil(data.high / axis.spacing - 1e-9) * axis.spacing;
    }
    axis.ticks = ticks_between(axis.range.low, axis.range.high, axis.spacing);
    return axis;
  }
  double fraction(double v) const { return (v - range.low) / (range.high - range.low); }
};

}  // namespace

std::string series_color(std::size_t index) {
  // Tableau 10 without its grey, which reads as part of the axes.
  static constexpr std::array<const char*, 9> kPalette = {"#1f77b4", "#ff7f0e", "#2ca02c",
                                                          "#d62728", "#9467bd", "#8c564b",
                                                          "#e377c2", "#bcbd22", "#17becf"};
  if (index < kPalette.size()) return kPalette[index];
  // HSL with s = 0.65, l = 0.45, the hue turned by the golden angle for each further series.
  double hue = std::fmod(static_cast<double>(index - kPalette.size()) * 137.508 + 20, 360.0);
  double c = (1 - std::abs(2 * 0.45 - 1)) * 0.65;
  double x = c * (1 - std::abs(std::fmod(hue / 60, 2.0) - 1));
  double m = 0.45 - c / 2;
  std::array<double, 3> rgb{};
  int sector = static_cast<int>(hue / 60);
  switch (sector) {
    case 0:
      rgb = {c, x, 0};
      break;
    case 1:
      rgb = {x, c, 0};
      break;
    case 2:
      rgb = {0, c, x};
      break;
    case 3:
      rgb = {0, x, c};
      break;
    case 4:
      rgb = {x, 0, c};
      break;
    default:
      rgb = {c, 0, x};
      break;
  }
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x",
                static_cast<unsigned>(std::lround((rgb[0] + m) * 255)),
                static_cast<unsigned>(std::lround((rgb[1] + m) * 255)),
                static_cast<unsigned>(std::lround((rgb[2] + m) * 255)));
  return buffer;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<double> axis_ticks(double low, double high, std::size_t target) {
  return ticks_between(low, high, nice_spacing(low, high, target));
}

std::string tick_label(double value, double spacing) {
  char buffer[32];
  double magnitude = std::max(std::abs(value), std::abs(spacing));
  if (magnitude >= 1e6 || (spacing > 0 && spacing < 1e-4)) {
    std::snprintf(buffer, sizeof buffer, "%.3g", value);
  } else {
    int decimals =
        spacing > 0 ? std::max(0, -static_cast<int>(std::floor(std::log10(spacing) + 1e-9))) : 0;
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  }
  return buffer;
}

std::string render_line_chart_svg(const LineChart& chart) {
  Range xs, ys;
  for (const auto& series : chart.series) {
    for (const auto& point : series.points) {
      if (!std::isfinite(point.x) || !std::isfinite(point.y)) continue;
      xs.add(point.x);
      ys.add(point.y);
    }
  }
  Axis x_axis = Axis::over(xs), y_axis = Axis::over(ys);
  auto px = [&](double x) { return kPlotLeft + x_axis.fraction(x) * kPlotWidth; };
  auto py = [&](double y) { return kPlotTop + (1 - y_axis.fraction(y)) * kPlotHeight; };
  double legend_height = kPlotTop + kLegendRow * static_cast<double>(chart.series.size()) + 8;
  double height = std::max(kPlotTop + kPlotHeight + kBottomMargin, legend_height);

  std::string svg = "<svg class=\"chart\" width=\"" + number(kWidth) + "\" height=\"" +
                    number(height) + "\" viewBox=\"0 0 " + number(kWidth) + " " + number(height) +
                    "\" role=\"img\" font-family=\"system-ui, sans-serif\" font-size=\"12\">\n";
  svg += "<title>" + xml_escape(chart.title) + "</title>\n";
  svg += "<text x=\"" + number(kPlotLeft) + "\" y=\"24\" font-size=\"15\" font-weight=\"bold\" " +
         "fill=\"#1f2328\">" + xml_escape(chart.title) + "</text>\n";
  svg += "<rect x=\"" + number(kPlotLeft) + "\" y=\"" + number(kPlotTop) + "\" width=\"" +
         number(kPlotWidth) + "\" height=\"" + number(kPlotHeight) + "\" fill=\"" +
         std::string(kPlotBackground) + "\" stroke=\"#d0d7de\"/>\n";

  svg += "<g class=\"grid\" stroke=\"#e1e4e8\" stroke-width=\"1\">\n";
  for (double tick : x_axis.ticks) {
    svg += "<line x1=\"" + number(px(tick)) + "\" y1=\"" + number(kPlotTop) + "\" x2=\"" +
           number(px(tick)) + "\" y2=\"" + number(kPlotTop + kPlotHeight) + "\"/>\n";
  }
  for (double tick : y_axis.ticks) {
    svg += "<line x1=\"" + number(kPlotLeft) + "\" y1=\"" + number(py(tick)) + "\" x2=\"" +
           number(kPlotLeft + kPlotWidth) + "\" y2=\"" + number(py(tick)) + "\"/>\n";
  }
  svg += "</g>\n<g class=\"ticks\" fill=\"#57606a\">\n";
  for (double tick : x_axis.ticks) {
    svg += "<text x=\"" + number(px(tick)) + "\" y=\"" + number(kPlotTop + kPlotHeight + 18) +
           "\" text-anchor=\"middle\">" + xml_escape(tick_label(tick, x_axis.spacing)) +
           "</text>\n";
  }
  for (double tick : y_axis.ticks) {
    svg += "<text x=\"" + number(kPlotLeft - 8) + "\" y=\"" + number(py(tick) + 4) +
           "\" text-anchor=\"end\">" + xml_escape(tick_label(tick, y_axis.spacing)) + "</text>\n";
  }
  svg += "</g>\n";
  svg += "<text x=\"" + number(kPlotLeft + kPlotWidth / 2) + "\" y=\"" +
         number(kPlotTop + kPlotHeight + 40) + "\" text-anchor=\"middle\" fill=\"#1f2328\">" +
         xml_escape(chart.x_label) + "</text>\n";

  for (const auto& series : chart.series) {
    std::string points;
    std::size_t count = 0;
    for (const auto& point : series.points) {
      if (!std::isfinite(point.x) || !std::isfinite(point.y)) continue;
      points += (points.empty() ? "" : " ") + number(px(point.x)) + "," + number(py(point.y));
      ++count;
    }
    std::string color = xml_escape(series.color);
    svg += "<polyline class=\"series\" fill=\"none\" stroke=\"" + color +
           "\" stroke-width=\"2.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\" points=\"" +
           points + "\"><title>" + xml_escape(series.label) + "</title></polyline>\n";
    if (count == 1) {
      auto space = points.find(',');
      svg += "<circle cx=\"" + points.substr(0, space) + "\" cy=\"" + points.substr(space + 1) +
             "\" r=\"4\" fill=\"" + color + "\"/>\n";
    }
  }

  svg += "<g class=\"legend\">\n";
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    double y = kPlotTop + 10 + kLegendRow * static_cast<double>(i);
    svg += "<line x1=\"" + number(kLegendLeft) + "\" y1=\"" + number(y) + "\" x2=\"" +
           number(kLegendLeft + 22) + "\" y2=\"" + number(y) + "\" stroke=\"" +
           xml_escape(chart.series[i].color) + "\" stroke-width=\"3\"/>\n";
    svg += "<text x=\"" + number(kLegendLeft + 30) + "\" y=\"" + number(y + 4) +
           "\" fill=\"#1f2328\">" + xml_escape(chart.series[i].label) + "</text>\n";
  }
  svg += "</g>\n</svg>\n";
  return svg;
}

}  // namespace sqltrack
