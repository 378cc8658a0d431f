// `sqltrack report` end to end: runs recorded by sqltrack-run with metric lines, the HTML file
// it writes, and that file rendered by headless Chromium and checked pixel by pixel.
#include <gtest/gtest.h>
#include <png.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "sqltrack/svg_chart.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;

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

TEST_P(ReportTest, ChartsEveryNumericMetricWithValuesWithALinePerRun) {
  CommandResult result = sqltrack({"report", "-e", "curves"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "report: report.html (3 runs, 2 charts)\n");
  std::string html = test::read_file(db_.cwd() / "report.html");
  EXPECT_EQ(count(html, "<svg"), 2u) << "train_loss and val_loss; not phase (text) nor unused "
                                        "(no values)";
  EXPECT_NE(html.find("<title>train_loss</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>val_loss</title>"), std::string::npos);
  EXPECT_EQ(count(html, "<polyline"), 6u);
  for (std::size_t i = 0; i < run_ids_.size(); ++i) {
    const std::string& id = run_ids_[i];
    EXPECT_EQ(count(html, "<tr id=\"run-" + id + "\">"), 1u) << "run " << id << " in the table";
    EXPECT_EQ(count(html, ">run " + id + "</text>"), 2u) << "run " << id << " in both legends";
    EXPECT_EQ(count(html, "stroke=\"" + series_color(i) + "\" stroke-width=\"2.5\""), 2u)
        << "run " << id << "'s curves";
    EXPECT_NE(html.find("lr=0." + std::to_string(i)), std::string::npos);
  }
  std::size_t third = html.find("<tr id=\"run-" + run_ids_[2] + "\">");
  ASSERT_NE(third, std::string::npos);
  std::string row = html.substr(third, html.find("</tr>", third) - third);
  EXPECT_NE(row.find(">FAILED<"), std::string::npos) << row;
  EXPECT_NE(row.find(">2<"), std::string::npos) << "exit code 2: " << row;
  EXPECT_EQ(html.find("run-" + other_run_id_), std::string::npos) << "a run of another experiment";
  EXPECT_EQ(html.find(">run " + other_run_id_ + "<"), std::string::npos);
}

TEST_P(ReportTest, OnlyTheChosenMetricsAndOneLineErrors) {
  CommandResult chosen =
      sqltrack({"report", "-e", "curves", "--metric", "val_loss", "-o", "v.html"});
  ASSERT_EQ(chosen.exit_code, 0) << chosen.err;
  std::string html = test::read_file(db_.cwd() / "v.html");
  EXPECT_EQ(count(html, "<svg"), 1u);
  EXPECT_EQ(count(html, "<polyline"), 3u);

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

class ReportScreenshotTest : public ReportFixture {
 protected:
  ReportScreenshotTest() : ReportFixture(db::Engine::sqlite) {}
};

TEST_F(ReportScreenshotTest, ChromiumShowsEachRunsCurveInItsColorInsideThePlotArea) {
  CommandResult result =
      sqltrack({"report", "-e", "curves", "--metric", "val_loss", "-o", "curves.html"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  fs::path dir = db_.cwd();
  std::string html = test::read_file(dir / "curves.html");
  for (const auto& id : run_ids_) {
    EXPECT_TRUE(std::regex_search(html, std::regex("<text [^>]*>run " + id + "</text>")))
        << "run " << id << " named in the legend";
  }

  // As root Chromium needs --no-sandbox; a private profile and HOME keep it off the user's.
  fs::create_directories(dir / "home");
  test::CommandOptions options;
  options.env = {{"HOME", (dir / "home").string()},
                 {"XDG_CONFIG_HOME", (dir / "home" / ".config").string()},
                 {"XDG_CACHE_HOME", (dir / "home" / ".cache").string()}};
  auto started = std::chrono::steady_clock::now();
  CommandResult chromium =
      test::run_command({"timeout", "60", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run",
                         "--user-data-dir=" + (dir / "profile").string(),
                         "--screenshot=" + (dir / "curves.png").string(), "--window-size=1200,1600",
                         "file://" + (dir / "curves.html").string()},
                        options);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  ASSERT_EQ(chromium.exit_code, 0) << chromium.err;
  std::cout << "chromium took " << took.count() << " ms\n";
  Picture picture = read_png(dir / "curves.png");
  ASSERT_EQ(picture.width, 1200u);

  // The plot area: the bounding box of its fill, a color used nowhere else on the page.
  auto background = rgb_of(std::string(kPlotBackground));
  std::size_t left = picture.width, right = 0, top = picture.height, bottom = 0;
  for (std::size_t y = 0; y < picture.height; ++y) {
    for (std::size_t x = 0; x < picture.width; ++x) {
      if (picture.at(x, y) != background) continue;
      left = std::min(left, x);
      right = std::max(right, x);
      top = std::min(top, y);
      bottom = std::max(bottom, y);
    }
  }
  ASSERT_LT(left, right) << "no plot area (" << kPlotBackground << ") in the screenshot";
  EXPECT_GT(right - left, 400u);
  EXPECT_GT(bottom - top, 200u);
  for (std::size_t i = 0; i < run_ids_.size(); ++i) {
    auto color = rgb_of(series_color(i));
    std::size_t pixels = 0;
    for (std::size_t y = top; y <= bottom; ++y) {
      for (std::size_t x = left; x <= right; ++x) {
        if (distance(picture.at(x, y), color) <= 30) ++pixels;
      }
    }
    // A curve across a 600-pixel-wide plot, 2.5 pixels thick, covers well over a thousand.
    EXPECT_GT(pixels, 500u) << "run " << run_ids_[i] << "'s color " << series_color(i)
                            << " in the plot area " << left << "," << top << " - " << right << ","
                            << bottom;
  }
}

}  // namespace
}  // namespace sqltrack
