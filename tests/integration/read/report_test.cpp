// `sqltrack report` end to end: runs recorded by sqltrack-run with metric lines, the HTML file
// it writes, and that file rendered by headless Chromium and checked pixel by pixel.
#include <gtest/gtest.h>
#include <png.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>

#include <nlohmann/json.hpp>

#include "sqltrack/util/html_text.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;

// The JSON the page's script draws from.
nlohmann::json page_data(const std::string& html) {
  const std::string start = "<script type=\"application/json\" id=\"report-data\">";
  auto begin = html.find(start);
  if (begin == std::string::npos) return {};
  begin += start.size();
  return nlohmann::json::parse(html.substr(begin, html.find("</script>", begin) - begin));
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

class ReportFixture : public ::testing::Test {
 protected:
  explicit ReportFixture(db::Engine engine) : db_(engine) {}

  void SetUp() override {
    const bool pg = db_.engine() == db::Engine::postgres;
    std::string real = pg ? "double precision" : "REAL";
    test::write_file(db_.cwd() / "v001.sql", "ALTER TABLE metrics ADD COLUMN train_loss " + real +
                                                 ";\n"
                                                 "ALTER TABLE metrics ADD COLUMN val_loss " +
                                                 real +
                                                 ";\n"
                                                 "ALTER TABLE metrics ADD COLUMN phase TEXT;\n"
                                                 "ALTER TABLE metrics ADD COLUMN unused " +
                                                 real + ";\n");
    CommandResult setup = sqltrack({"setup", "v001.sql"});
    ASSERT_EQ(setup.exit_code, 0) << setup.err;
    // Three runs of "curves", each with its own curve well apart from the others, the last
    // two failing; and a run of another experiment that must stay out of the report.
    for (int k = 0; k < 3; ++k) {
      std::string lines;
      for (int step = 0; step < 40; ++step) {
        char line[160];
        std::snprintf(line, sizeof line, "step=%d train_loss=%.5f val_loss=%.5f phase=\"p%d\"\n",
                      step, 0.4 * (3 - k) + 2.0 / (step + 1),
                      0.5 * (k + 1) + 1.5 * std::exp(-step / 10.0), k);
        lines += line;
      }
      test::write_file(db_.cwd() / ("lines" + std::to_string(k) + ".txt"), lines);
      CommandResult run = wrap({"-e", "curves", "--tag", "lr=0." + std::to_string(k)},
                               {"bash", "-c",
                                "cat lines" + std::to_string(k) +
                                    ".txt > \"$SQLTRACK_METRICS\"; exit " + std::to_string(k)});
      ASSERT_EQ(run.exit_code, k) << run.err;
      run_ids_.push_back(last_run_id());
    }
    ASSERT_EQ(
        wrap({"-e", "other"}, {"bash", "-c", "echo 'step=1 val_loss=9' > \"$SQLTRACK_METRICS\""})
            .exit_code,
        0);
    other_run_id_ = last_run_id();
  }

  test::CommandOptions in_db_dir() const {
    test::CommandOptions options;
    options.cwd = db_.cwd();
    return options;
  }

  CommandResult wrap(std::vector<std::string> flags, std::vector<std::string> command) const {
    return test::run_command(db_.wrapper_argv(flags, command), in_db_dir());
  }

  CommandResult sqltrack(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{SQLTRACK_BIN};
    auto flags = db_.cli_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_command(argv, in_db_dir());
  }

  std::string last_run_id() const {
    return db_.connect()->query("SELECT max(id) FROM runs", {}).scalar().value_or("<none>");
  }

  test::EngineDatabase db_;
  std::vector<std::string> run_ids_;
  std::string other_run_id_;
};

class ReportTest : public ReportFixture, public ::testing::WithParamInterface<db::Engine> {
 protected:
  ReportTest() : ReportFixture(GetParam()) {}
};

TEST_P(ReportTest, ChartsEveryNumericMetricWithValuesWithACurvePerRunNamedByItsTags) {
  CommandResult result = sqltrack({"report", "-e", "curves"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "report: report.html (3 runs, 2 charts)\n");
  std::string html = test::read_file(db_.cwd() / "report.html");
  auto data = page_data(html);
  ASSERT_EQ(data["charts"].size(), 2u) << "train_loss and val_loss; not phase (text) nor unused "
                                          "(no values)";
  EXPECT_EQ(data["charts"][0]["title"], "train_loss");
  EXPECT_EQ(data["charts"][1]["title"], "val_loss");
  for (const auto& chart : data["charts"]) {
    ASSERT_EQ(chart["series"].size(), 3u) << chart.dump();
    for (std::size_t i = 0; i < run_ids_.size(); ++i) {
      // The runs differ by their tag lr only: that names them.
      EXPECT_EQ(chart["series"][i]["label"], "lr=0." + std::to_string(i));
      EXPECT_EQ(chart["series"][i]["color"], series_color(i));
      EXPECT_EQ(chart["series"][i]["points"].size(), 40u);
    }
  }
  for (const auto& id : run_ids_) {
    EXPECT_EQ(count(html, "<tr id=\"run-" + id + "\">"), 1u) << "run " << id << " in the table";
  }
  std::size_t third = html.find("<tr id=\"run-" + run_ids_[2] + "\">");
  ASSERT_NE(third, std::string::npos);
  std::string row = html.substr(third, html.find("</tr>", third) - third);
  EXPECT_NE(row.find(">FAILED<"), std::string::npos) << row;
  EXPECT_NE(row.find(">2<"), std::string::npos) << "exit code 2: " << row;
  EXPECT_EQ(html.find("run-" + other_run_id_), std::string::npos) << "a run of another experiment";
}

// A year of runs: the page holds the newest --limit of them and says how many it left out.
TEST_P(ReportTest, LimitKeepsTheNewestRunsAndSaysHowManyAreLeftOut) {
  CommandResult limited = sqltrack({"report", "-e", "curves", "--limit", "2", "-o", "l.html"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_EQ(limited.out, "report: l.html (2 runs, 2 charts)\n");
  EXPECT_NE(limited.err.find("note: the 2 newest of 3 runs are shown"), std::string::npos)
      << "expected a note on stderr, got: " << limited.err;
  std::string html = test::read_file(db_.cwd() / "l.html");
  EXPECT_EQ(html.find("<tr id=\"run-" + run_ids_[0] + "\">"), std::string::npos)
      << "the oldest run is left out";
  EXPECT_EQ(count(html, "<tr id=\"run-" + run_ids_[1] + "\">"), 1u);
  EXPECT_EQ(count(html, "<tr id=\"run-" + run_ids_[2] + "\">"), 1u);
  EXPECT_NE(html.find("the 2 newest of 3 runs are shown"), std::string::npos) << "on the page too";
  EXPECT_EQ(page_data(html)["charts"][0]["series"].size(), 2u);

  CommandResult all = sqltrack({"report", "-e", "curves", "--limit", "0", "-o", "a.html"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out, "report: a.html (3 runs, 2 charts)\n");
  EXPECT_EQ(all.err.find("newest"), std::string::npos) << all.err;
}

TEST_P(ReportTest, OnlyTheChosenMetricsAndOneLineErrors) {
  CommandResult chosen =
      sqltrack({"report", "-e", "curves", "--metric", "val_loss", "-o", "v.html"});
  ASSERT_EQ(chosen.exit_code, 0) << chosen.err;
  std::string html = test::read_file(db_.cwd() / "v.html");
  auto data = page_data(html);
  ASSERT_EQ(data["charts"].size(), 1u);
  EXPECT_EQ(data["charts"][0]["title"], "val_loss");
  EXPECT_EQ(count(html, "id=\"plot-m"), 1u);

  CommandResult text = sqltrack({"report", "-e", "curves", "--metric", "phase", "-o", "p.html"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_EQ(text.err, std::string("sqltrack: error: metric column \"phase\" holds ") +
                          (GetParam() == db::Engine::postgres ? "text" : "TEXT") +
                          ", not numbers; numeric metric columns: train_loss, val_loss, unused\n");
  CommandResult missing = sqltrack({"report", "-e", "nosuch", "-o", "n.html"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err,
            "sqltrack: error: no experiment named \"nosuch\" (experiments: curves, other)\n");
  EXPECT_FALSE(fs::exists(db_.cwd() / "n.html")) << "no file for an unknown experiment";
  EXPECT_FALSE(fs::exists(db_.cwd() / "p.html"));
}

INSTANTIATE_TEST_SUITE_P(Engines, ReportTest,
                         ::testing::Values(db::Engine::sqlite, db::Engine::postgres),
                         test::EngineParamName());

struct Picture {
  std::size_t width = 0, height = 0;
  std::vector<unsigned char> rgba;

  std::array<int, 3> at(std::size_t x, std::size_t y) const {
    const unsigned char* p = &rgba[(y * width + x) * 4];
    return {p[0], p[1], p[2]};
  }
};

Picture read_png(const fs::path& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) {
    throw std::runtime_error("cannot read " + path.string() + ": " + image.message);
  }
  image.format = PNG_FORMAT_RGBA;
  Picture picture{image.width, image.height, {}};
  picture.rgba.resize(picture.width * picture.height * 4);
  if (!png_image_finish_read(&image, nullptr, picture.rgba.data(), 0, nullptr)) {
    throw std::runtime_error("cannot decode " + path.string() + ": " + image.message);
  }
  return picture;
}

std::array<int, 3> rgb_of(const std::string& hex) {
  return {std::stoi(hex.substr(1, 2), nullptr, 16), std::stoi(hex.substr(3, 2), nullptr, 16),
          std::stoi(hex.substr(5, 2), nullptr, 16)};
}

int distance(const std::array<int, 3>& a, const std::array<int, 3>& b) {
  return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]);
}

// Headless Chromium on curves.html at 1400 pixels wide, with `what` (a --screenshot or
// --dump-dom) and `fragment` after the file's address. The flags are the quiet set browser
// test runners use: with no network, background fetches (components, variations) can hold up
// its exit, and on a loaded 2-core machine one start in many has hung; one retry tells a stuck
// start from a page that cannot be drawn.
CommandResult run_chromium(const fs::path& dir, const std::string& what,
                           const std::string& fragment) {
  // As root Chromium needs --no-sandbox; a private profile and HOME keep it off the user's.
  fs::create_directories(dir / "home");
  test::CommandOptions options;
  options.env = {{"HOME", (dir / "home").string()},
                 {"XDG_CONFIG_HOME", (dir / "home" / ".config").string()},
                 {"XDG_CACHE_HOME", (dir / "home" / ".cache").string()}};
  CommandResult chromium;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto started = std::chrono::steady_clock::now();
    chromium = test::run_command(
        {"timeout",
         "-k",
         "10",
         "150",
         "chromium",
         "--headless",
         "--no-sandbox",
         "--disable-gpu",
         "--disable-dev-shm-usage",
         "--hide-scrollbars",
         "--no-first-run",
         "--no-default-browser-check",
         "--disable-background-networking",
         "--disable-component-update",
         "--disable-default-apps",
         "--disable-extensions",
         "--disable-sync",
         "--no-pings",
         "--disable-breakpad",
         "--metrics-recording-only",
         "--user-data-dir=" + (dir / ("profile-" + std::to_string(attempt))).string(),
         what,
         "--window-size=1400,1800",
         "file://" + (dir / "curves.html").string() + fragment},
        options);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    std::cout << "chromium " << what << " (try " << attempt << ") exited " << chromium.exit_code
              << " after " << took.count() << " ms\n";
    if (chromium.exit_code != 124 && chromium.exit_code != 137) break;
  }
  return chromium;
}

// The first plot area from the top: the rows holding its fill (a color used nowhere else on the
// page) from the first one down to where it stops for more than a few rows (a grid line is one
// row without it), and their columns.
struct Box {
  std::size_t left = 0, right = 0, top = 0, bottom = 0;
};

std::optional<Box> first_plot_area(const Picture& picture, const std::array<int, 3>& fill) {
  std::optional<Box> box;
  std::size_t rows_without = 0;
  for (std::size_t y = 0; y < picture.height; ++y) {
    std::size_t left = picture.width, right = 0;
    for (std::size_t x = 0; x < picture.width; ++x) {
      if (picture.at(x, y) != fill) continue;
      left = std::min(left, x);
      right = std::max(right, x);
    }
    if (left > right) {
      if (box && ++rows_without > 4) break;
      continue;
    }
    rows_without = 0;
    if (!box) box = Box{left, right, y, y};
    box->left = std::min(box->left, left);
    box->right = std::max(box->right, right);
    box->bottom = y;
  }
  return box;
}

class ReportScreenshotTest : public ReportFixture {
 protected:
  ReportScreenshotTest() : ReportFixture(db::Engine::sqlite) {}
};

TEST_F(ReportScreenshotTest, AtPageWidthNothingOverlapsAndEveryChartHasAxesAndLegend) {
  CommandResult result = sqltrack({"report", "-e", "curves", "-o", "curves.html"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  fs::path dir = db_.cwd();
  // The page checks its own layout when asked (#layout-check) and writes the verdict into
  // <body data-layout>; --dump-dom prints the page after its scripts ran.
  CommandResult chromium = run_chromium(dir, "--dump-dom", "#layout-check");
  ASSERT_EQ(chromium.exit_code, 0) << chromium.err;
  std::smatch verdict;
  ASSERT_TRUE(std::regex_search(chromium.out, verdict, std::regex("data-layout=\"([^\"]*)\"")))
      << "the page's script did not run:\n"
      << chromium.out.substr(0, 2000);
  EXPECT_EQ(verdict[1].str(), "ok");
  // The legends name the runs by their tag lr.
  for (std::size_t i = 0; i < run_ids_.size(); ++i) {
    EXPECT_GE(count(chromium.out, "lr=0." + std::to_string(i)), 3u)
        << "run " << run_ids_[i] << " in the table and both legends";
  }
  EXPECT_GT(count(chromium.out, "dygraph-axis-label-x"), 0u);
}

TEST_F(ReportScreenshotTest, ChromiumShowsEachRunsCurveInItsColorInsideThePlotArea) {
  CommandResult result =
      sqltrack({"report", "-e", "curves", "--metric", "val_loss", "-o", "curves.html"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  fs::path dir = db_.cwd();
  CommandResult chromium = run_chromium(dir, "--screenshot=" + (dir / "curves.png").string(), "");
  ASSERT_EQ(chromium.exit_code, 0) << chromium.err;
  Picture picture = read_png(dir / "curves.png");
  ASSERT_EQ(picture.width, 1400u);
  auto area = first_plot_area(picture, rgb_of(std::string(kPlotBackground)));
  ASSERT_TRUE(area) << "no plot area (" << kPlotBackground << ") in the screenshot";
  const auto [left, right, top, bottom] = *area;
  // The chart takes the page's width but the legend's column.
  EXPECT_GT(right - left, 900u);
  EXPECT_GT(bottom - top, 200u);
  for (std::size_t i = 0; i < run_ids_.size(); ++i) {
    auto color = rgb_of(series_color(i));
    std::size_t pixels = 0;
    for (std::size_t y = top; y <= bottom; ++y) {
      for (std::size_t x = left; x <= right; ++x) {
        if (distance(picture.at(x, y), color) <= 30) ++pixels;
      }
    }
    // A curve across a 900-pixel-wide plot, 2.5 pixels thick, covers well over a thousand.
    EXPECT_GT(pixels, 500u) << "run " << run_ids_[i] << "'s color " << series_color(i)
                            << " in the plot area " << left << "," << top << " - " << right << ","
                            << bottom;
  }
}

}  // namespace
}  // namespace sqltrack
