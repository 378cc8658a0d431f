#pragma once
// Text and colors for the HTML report: escaping for elements, attributes and inline scripts,
// and the color of each run.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace sqltrack {

// The fill of a chart's plot area: a color used nowhere else in the report, so a picture of
// the page shows where the plot area is.
inline constexpr std::string_view kPlotBackground = "#f6f8fa";

// The color of series `index` as "#rrggbb": ten well-separated colors, then hues spread by the
// golden angle.
std::string series_color(std::size_t index);

// Text safe inside HTML elements and quoted attributes: & < > " ' escaped.
std::string xml_escape(std::string_view text);

// JSON that is safe inside <script type="application/json">: only ASCII, and no < > & that
// could end the element or start a comment, whatever the strings hold.
std::string script_json(const nlohmann::json& value);

}  // namespace sqltrack
