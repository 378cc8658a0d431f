#include "sqltrack/util/html_text.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace sqltrack {

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

std::string script_json(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  // Outside strings JSON has none of these characters, so the escapes are always in a string.
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace sqltrack
