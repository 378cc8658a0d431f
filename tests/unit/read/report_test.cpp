// The HTML report, generated from data made up here (no database).
#include "sqltrack/read/report.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "sqltrack/read/report_assets.hpp"
#include "sqltrack/util/html_text.hpp"

namespace sqltrack {
namespace {

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

MetricSeries series(std::vector<std::pair<double, double>> points) {
  MetricSeries out;
  for (auto [step, value] : points) {
    out.points.push_back({step, value});
    if (!(value >= out.min_value)) out.min_value = value;
    if (!(value <= out.max_value)) out.max_value = value;
  }
  if (!points.empty()) out.last_value = points.back().second;
  return out;
}

ReportRun run(std::int64_t id, std::string status, std::string tags, std::string comment,
              std::string label) {
  ReportRun r;
  r.id = id;
  r.status = std::move(status);
  r.started = "2026-11-23 09:00:00";
  r.ended = "2026-11-23 09:30:00";
  r.duration = "0:30:00";
  r.duration_seconds = 1800;
  r.exit = "0";
  r.tags = std::move(tags);
  r.slurm_job = id == 7 ? "12_3" : "";
  r.comment = std::move(comment);
  r.label = std::move(label);
  return r;
}

ReportData hostile_report() {
  ReportData data;
  data.experiment = "<script>alert(\"x\")</script> & co";
  data.comment = "</p><img src=x onerror=alert(1)>";
  data.generated = "2026-11-23 10:00:00 UTC";
  data.runs.push_back(run(7, "COMPLETED", "lr=<b>0.1</b>", "", "lr=</script><b>0.1"));
  data.runs.push_back(run(8, "FAILED", "", "'quoted'", "'quoted'"));
  data.runs.back().rejected_lines = 3;
  data.runs.push_back(run(9, "CANCELLED", "", "", "run 9"));
  ReportChart loss{"val_loss",
                   {{7, series({{0, 1.0}, {1, 0.5}, {2, 0.25}})},
                    {8, series({{0, 2.0}, {1, 1.5}})},
                    {9, series({{0, 3.0}})}}};
  loss.lower_is_better = true;
  data.charts.push_back(loss);
  data.charts.push_back({"odd\"<name>", {{8, series({{0, 5}, {10, 6}})}}});
  data.resources.push_back({"CPU (%)", {{9, series({{0, 100}, {0.5, 180}})}}, "minutes"});
  data.notes.push_back("metrics not charted: <x>");
  return data;
}

// The page without the dygraphs library it inlines: what this project writes.
std::string own_part(std::string html) {
  auto at = html.find(dygraphs_js());
  EXPECT_NE(at, std::string::npos) << "dygraphs inlined";
  if (at != std::string::npos) html.erase(at, dygraphs_js().size());
  return html;
}

// The JSON the page's script draws from.
nlohmann::json page_data(const std::string& html) {
  const std::string start = "<script type=\"application/json\" id=\"report-data\">";
  auto begin = html.find(start);
  EXPECT_NE(begin, std::string::npos) << html;
  if (begin == std::string::npos) return {};
  begin += start.size();
  return nlohmann::json::parse(html.substr(begin, html.find("</script>", begin) - begin));
}

TEST(XmlEscape, EscapesEveryCharacterThatEndsTextOrAnAttribute) {
  EXPECT_EQ(xml_escape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  EXPECT_EQ(xml_escape("plain ▁ text"), "plain ▁ text");
}

TEST(ScriptJson, NothingInAStringCanEndTheScriptElement) {
  std::string text = script_json({{"label", "</script><!-- & \u2028 ü"}});
  EXPECT_EQ(text.find_first_of("<>&"), std::string::npos) << text;
  for (unsigned char c : text) EXPECT_LT(c, 0x80) << text;
  EXPECT_EQ(nlohmann::json::parse(text)["label"], "</script><!-- & \u2028 ü");
}

TEST(ReportHtml, EscapesEveryTextFromTheDatabase) {
  std::string html = own_part(render_report_html(hostile_report()));
  for (const char* raw : {"<script>alert", "<img", "<b>", "<name>", "<x>", "</script><b>"}) {
    EXPECT_EQ(html.find(raw), std::string::npos) << raw << " in\n" << html;
  }
  // The page's own script elements only: the library, the data and the drawing.
  EXPECT_EQ(count(html, "</script>"), 3u) << html;
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("lr=&lt;b&gt;0.1&lt;/b&gt;"), std::string::npos) << html;
  EXPECT_NE(html.find("&#39;quoted&#39;"), std::string::npos) << html;
  EXPECT_NE(html.find("odd&quot;&lt;name&gt;"), std::string::npos) << html;
  EXPECT_EQ(page_data(html)["charts"][0]["series"][0]["label"], "lr=</script><b>0.1");
}

TEST(ReportHtml, IsSelfContained) {
  std::string html = own_part(render_report_html(hostile_report()));
  for (const char* fetches :
       {"http:", "https:", "<link", "@import", "url(", "src=\"", "href=\"", "<iframe"}) {
    EXPECT_EQ(html.find(fetches), std::string::npos) << "found " << fetches << " in\n" << html;
  }
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
}

TEST(ReportHtml, OneChartPerMetricWithACurvePerRunThatHasValues) {
  std::string html = render_report_html(hostile_report());
  EXPECT_EQ(count(html, "<section class=\"chart\">"), 3u) << "2 metrics, 1 resource";
  auto data = page_data(html);
  ASSERT_EQ(data["charts"].size(), 2u);
  EXPECT_EQ(data["charts"][0]["series"].size(), 3u);
  EXPECT_EQ(data["charts"][1]["series"].size(), 1u);
  EXPECT_EQ(data["charts"][0]["series"][1]["points"], nlohmann::json::parse("[[0,2.0],[1,1.5]]"));
  ASSERT_EQ(data["resources"].size(), 1u);
  EXPECT_EQ(data["resources"][0]["x_label"], "minutes");
  EXPECT_EQ(data["plot_background"], std::string(kPlotBackground));
}

TEST(ReportHtml, RunsKeepTheirColorAndNameInTheTableTheCurvesAndTheLegends) {
  std::string html = render_report_html(hostile_report());
  auto data = page_data(html);
  const std::vector<std::string> labels{"lr=</script><b>0.1", "'quoted'", "run 9"};
  for (std::size_t i = 0; i < 3; ++i) {
    std::string id = std::to_string(7 + i), color = series_color(i);
    EXPECT_NE(html.find("<span class=\"swatch\" style=\"background: " + color + "\"></span>" + id),
              std::string::npos)
        << "run " << id << " in the table\n"
        << html;
    EXPECT_EQ(data["charts"][0]["series"][i]["color"], color) << "run " << id;
    EXPECT_EQ(data["charts"][0]["series"][i]["label"], labels[i]) << "run " << id;
  }
  // Run 8 is the second run everywhere, also in the chart where it is the only one.
  EXPECT_EQ(data["charts"][1]["series"][0]["color"], series_color(1));
  EXPECT_EQ(data["resources"][0]["series"][0]["color"], series_color(2));
}

TEST(ReportHtml, RunTableHoldsEachRunsFactsAndEachMetricsLastAndBest) {
  std::string html = render_report_html(hostile_report());
  std::size_t row = html.find("<tr id=\"run-7\">");
  ASSERT_NE(row, std::string::npos) << html;
  std::string line = html.substr(row, html.find("</tr>", row) - row);
  for (const char* fact : {"COMPLETED", "2026-11-23 09:00:00", "2026-11-23 09:30:00", "0:30:00",
                           "12_3", "lr=&lt;b&gt;0.1&lt;/b&gt;"}) {
    EXPECT_NE(line.find(fact), std::string::npos) << fact << " in " << line;
  }
  EXPECT_NE(html.find("<th>Comment</th>"), std::string::npos) << "a run has a comment";
  EXPECT_NE(html.find("<th>Rejected lines</th>"), std::string::npos) << "a run has rejects";
  EXPECT_NE(html.find("<th>val_loss last</th><th>val_loss best (min)</th>"), std::string::npos);
  std::size_t run8 = html.find("<tr id=\"run-8\">");
  std::string line8 = html.substr(run8, html.find("</tr>", run8) - run8);
  EXPECT_NE(line8.find("<td class=\"num\" data-sort=\"3\">3</td>"), std::string::npos) << line8;
  EXPECT_NE(line8.find("data-sort=\"1.5\">1.5</td><td class=\"num\" data-sort=\"1.5\">1.5</td>"),
            std::string::npos)
      << line8;
  // Run 8 has no value of val_loss's best in the other chart's metric: it sorts last.
  EXPECT_NE(html.find("<td class=\"num\" data-sort=\"\">-</td>"), std::string::npos);
}

TEST(ReportHtml, StoppedRunsAreColouredApartFromFailedOnes) {
  std::string html = render_report_html(hostile_report());
  EXPECT_NE(html.find("<td class=\"stopped\">CANCELLED</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td class=\"bad\">FAILED</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"ok\">COMPLETED</td>"), std::string::npos);
}

TEST(ReportHtml, LogScaleIsOfferedOnlyForPositiveValuesAndOnFirstWhenTheySpanDecades) {
  ReportData data = hostile_report();
  data.charts[0].log_scale = true;
  std::string html = render_report_html(data);
  EXPECT_NE(html.find("<input type=\"checkbox\" id=\"log-m0\" checked>"), std::string::npos);
  EXPECT_NE(html.find("<input type=\"checkbox\" id=\"log-m1\">"), std::string::npos);
  EXPECT_EQ(page_data(html)["charts"][0]["log"], true);
  data.charts[1].series[8] = series({{0, -1}, {1, 1}});
  EXPECT_EQ(render_report_html(data).find("id=\"log-m1\""), std::string::npos);
}

TEST(SpansDecades, AllPositiveAndLargestOverSmallestAboveAHundred) {
  EXPECT_TRUE(spans_decades({{1, series({{0, 10}, {1, 0.05}})}}));
  EXPECT_FALSE(spans_decades({{1, series({{0, 10}, {1, 0.5}})}}));
  EXPECT_FALSE(spans_decades({{1, series({{0, 10}, {1, 0.01}, {2, 0}})}}));
  EXPECT_TRUE(spans_decades({{1, series({{0, 1000}})}, {2, series({{0, 1}})}}));
  EXPECT_FALSE(spans_decades({}));
}

TEST(ReportHtml, ChartOfAMetricWithoutValuesSaysSo) {
  ReportData data = hostile_report();
  data.charts = {{"empty_metric", {}}};
  data.resources.clear();
  std::string html = render_report_html(data);
  EXPECT_EQ(count(html, "<section class=\"chart\">"), 0u);
  EXPECT_NE(html.find("no values of empty_metric in these runs"), std::string::npos) << html;
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
