// The HTML report and its SVG charts, generated from data made up here (no database).
#include "sqltrack/report.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "sqltrack/svg_chart.hpp"

namespace sqltrack {
namespace {

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

MetricSeries series(std::vector<std::pair<double, double>> points) {
  MetricSeries out;
  for (auto [step, value] : points) out.points.push_back({step, value});
  if (!points.empty()) out.last_value = points.back().second;
  return out;
}

ReportData hostile_report() {
  ReportData data;
  data.experiment = "<script>alert(\"x\")</script> & co";
  data.comment = "</p><img src=x onerror=alert(1)>";
  data.generated = "2026-11-23 10:00:00 UTC";
  data.runs.push_back({7, "COMPLETED", "2026-11-23 09:00:00", "2026-11-23 09:30:00", "0:30:00", "0",
                       "lr=<b>0.1</b>", "12_3", ""});
  data.runs.push_back(
      {8, "FAILED", "2026-11-23 09:00:00", "-", "0:10:00", "3", "", "", "'quoted'"});
  data.runs.push_back({9, "RUNNING", "2026-11-23 09:05:00", "-", "0:01:00", "-", "", "", ""});
  data.charts.push_back({"val_loss",
                         {{7, series({{0, 1.0}, {1, 0.5}, {2, 0.25}})},
                          {8, series({{0, 2.0}, {1, 1.5}})},
                          {9, series({{0, 3.0}})}}});
  data.charts.push_back({"odd\"<name>", {{8, series({{0, 5}, {10, 6}})}}});
  data.notes.push_back("metrics not charted: <x>");
  return data;
}

TEST(XmlEscape, EscapesEveryCharacterThatEndsTextOrAnAttribute) {
  EXPECT_EQ(xml_escape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  EXPECT_EQ(xml_escape("plain ▁ text"), "plain ▁ text");
}

TEST(ReportHtml, EscapesEveryTextFromTheDatabase) {
  std::string html = render_report_html(hostile_report());
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("<img"), std::string::npos) << html;
  EXPECT_EQ(html.find("<b>"), std::string::npos) << html;
  EXPECT_EQ(html.find("<name>"), std::string::npos) << html;
  EXPECT_EQ(html.find("<x>"), std::string::npos) << html;
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("lr=&lt;b&gt;0.1&lt;/b&gt;"), std::string::npos) << html;
  EXPECT_NE(html.find("&#39;quoted&#39;"), std::string::npos) << html;
  EXPECT_NE(html.find("odd&quot;&lt;name&gt;"), std::string::npos) << html;
}

TEST(ReportHtml, IsSelfContained) {
  std::string html = render_report_html(hostile_report());
  for (const char* fetches :
       {"http:", "https:", "//", "<link", "<script", "@import", "url(", "src=\"", "href=\""}) {
    EXPECT_EQ(html.find(fetches), std::string::npos) << "found " << fetches << " in\n" << html;
  }
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
}

TEST(ReportHtml, OneChartPerMetricWithOnePolylinePerRunThatHasValues) {
  std::string html = render_report_html(hostile_report());
  EXPECT_EQ(count(html, "<svg"), 2u) << html;
  EXPECT_EQ(count(html, "<polyline"), 4u) << "3 runs in val_loss, 1 in the other chart\n" << html;
  // Run 9 has a single point: a dot shows it.
  EXPECT_EQ(count(html, "<circle"), 1u) << html;
}

TEST(ReportHtml, RunsKeepTheirColorInTheTableTheCurvesAndTheLegends) {
  std::string html = render_report_html(hostile_report());
  for (std::size_t i = 0; i < 3; ++i) {
    std::string id = std::to_string(7 + i), color = series_color(i);
    EXPECT_NE(html.find("<span class=\"swatch\" style=\"background: " + color + "\"></span>" + id),
              std::string::npos)
        << "run " << id << " in the table\n"
        << html;
    EXPECT_NE(
        html.find("stroke=\"" + color +
                  "\" stroke-width=\"2.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\" "
                  "points=\""),
        std::string::npos)
        << "run " << id << "'s curve";
    std::regex legend("<line [^>]*stroke=\"" + color +
                      "\" stroke-width=\"3\"/>\\s*<text [^>]*>run " + id + "</text>");
    EXPECT_TRUE(std::regex_search(html, legend)) << "run " << id << " in the legend\n" << html;
  }
  // Run 8 is the second run everywhere, also in the chart where it is the only one.
  std::size_t second_chart = html.find("odd&quot;&lt;name&gt;</title>");
  ASSERT_NE(second_chart, std::string::npos);
  EXPECT_NE(html.find("stroke=\"" + series_color(1) + "\"", second_chart), std::string::npos);
}

TEST(ReportHtml, RunTableHoldsEachRunsFacts) {
  std::string html = render_report_html(hostile_report());
  std::size_t row = html.find("<tr id=\"run-7\">");
  ASSERT_NE(row, std::string::npos) << html;
  std::string line = html.substr(row, html.find("</tr>", row) - row);
  for (const char* fact : {"COMPLETED", "2026-11-23 09:00:00", "2026-11-23 09:30:00", "0:30:00",
                           "12_3", "lr=&lt;b&gt;0.1&lt;/b&gt;"}) {
    EXPECT_NE(line.find(fact), std::string::npos) << fact << " in " << line;
  }
  EXPECT_NE(html.find("<th>Comment</th>"), std::string::npos) << "a run has a comment";
}

TEST(ReportHtml, ChartOfAMetricWithoutValuesSaysSo) {
  ReportData data = hostile_report();
  data.charts = {{"empty_metric", {}}};
  std::string html = render_report_html(data);
  EXPECT_EQ(count(html, "<svg"), 0u);
  EXPECT_NE(html.find("no values of empty_metric in these runs"), std::string::npos) << html;
}

TEST(SvgChart, PointsThatAreNotFiniteAreLeftOut) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  LineChart chart{"loss", "step", {{"run 1", "#1f77b4", {{0, 1}, {1, nan}, {2, 3}}}}};
  std::string svg = render_line_chart_svg(chart);
  std::smatch match;
  ASSERT_TRUE(std::regex_search(svg, match, std::regex("points=\"([^\"]*)\""))) << svg;
  EXPECT_EQ(count(match[1].str(), ","), 2u) << match[1].str();
  EXPECT_EQ(svg.find("nan"), std::string::npos) << svg;
}

TEST(SvgChart, CurvesStayInsideThePlotArea) {
  LineChart chart{"loss", "step", {{"a", "#1f77b4", {{3, -7.5}, {1003, 0.01}, {500, 12}}}}};
  std::string svg = render_line_chart_svg(chart);
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(svg, match,
                        std::regex("<rect x=\"([0-9.]+)\" y=\"([0-9.]+)\" width=\"([0-9.]+)\" "
                                   "height=\"([0-9.]+)\" fill=\"#f6f8fa\"")))
      << svg;
  double left = std::stod(match[1]), top = std::stod(match[2]);
  double right = left + std::stod(match[3]), bottom = top + std::stod(match[4]);
  ASSERT_TRUE(std::regex_search(svg, match, std::regex("points=\"([^\"]*)\""))) << svg;
  std::string points = match[1];
  std::regex pair("([0-9.-]+),([0-9.-]+)");
  int seen = 0;
  for (std::sregex_iterator it(points.begin(), points.end(), pair), end; it != end; ++it, ++seen) {
    double x = std::stod((*it)[1]), y = std::stod((*it)[2]);
    EXPECT_GE(x, left);
    EXPECT_LE(x, right);
    EXPECT_GE(y, top);
    EXPECT_LE(y, bottom);
  }
  EXPECT_EQ(seen, 3);
}

TEST(AxisTicks, RoundValuesOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_EQ(axis_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  EXPECT_EQ(axis_ticks(0, 950, 5), (std::vector<double>{0, 200, 400, 600, 800}));
  EXPECT_EQ(axis_ticks(-3, 7, 5), (std::vector<double>{-2, 0, 2, 4, 6}));
  EXPECT_TRUE(axis_ticks(1, 1, 5).empty());
}

TEST(AxisTicks, LabelsHaveTheDecimalsTheSpacingNeeds) {
  EXPECT_EQ(tick_label(0.6000000000000001, 0.2), "0.6");
  EXPECT_EQ(tick_label(0.25, 0.05), "0.25");
  EXPECT_EQ(tick_label(1500, 500), "1500");
  EXPECT_EQ(tick_label(2e8, 5e7), "2e+08");
  EXPECT_EQ(tick_label(0, 0.001), "0.000");
}

TEST(SeriesColor, ColorsAreDistinctAndWellFormed) {
  std::vector<std::string> colors;
  for (std::size_t i = 0; i < 40; ++i) {
    std::string color = series_color(i);
    EXPECT_TRUE(std::regex_match(color, std::regex("#[0-9a-f]{6}"))) << color;
    EXPECT_EQ(std::count(colors.begin(), colors.end(), color), 0) << color << " twice";
    colors.push_back(color);
  }
}

}  // namespace
}  // namespace sqltrack
