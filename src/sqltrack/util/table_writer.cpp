#include "sqltrack/util/table_writer.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"
#include "sqltrack/util/utf8_text.hpp"

namespace sqltrack {
namespace {

// Rows are handed to the stream in blocks of about this size.
constexpr std::size_t kFlushBytes = 1 << 16;

class BufferedWriter : public TableWriter {
 public:
  explicit BufferedWriter(std::ostream& out) : out_(out) {}

  void finish() override {
    flush();
    out_.flush();
    if (!out_) throw Error("cannot write the output: " + std::string(std::strerror(errno)));
  }

 protected:
  void end_row() {
    if (buffer_.size() >= kFlushBytes) flush();
  }
  std::string buffer_;

 private:
  void flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
    if (!out_) throw Error("cannot write the output: " + std::string(std::strerror(errno)));
  }
  std::ostream& out_;
};

class CsvWriter final : public BufferedWriter {
 public:
  using BufferedWriter::BufferedWriter;

  void header(const std::vector<std::string>& columns) override {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) buffer_ += ',';
      append_csv_field(buffer_, columns[i]);
    }
    buffer_ += "\r\n";
    end_row();
  }

  void row(std::span<const Cell> cells) override {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) buffer_ += ',';
      append(cells[i]);
    }
    buffer_ += "\r\n";
    end_row();
  }

 private:
  void append(const Cell& cell) {
    struct Visitor {
      std::string& out;
      void operator()(std::monostate) const {}
      void operator()(std::int64_t v) const { out += std::to_string(v); }
      void operator()(double v) const { out += format_float(v); }
      void operator()(bool v) const { out += v ? "true" : "false"; }
      void operator()(const std::string& v) const {
        // An empty string is quoted so that it differs from NULL.
        if (v.empty()) {
          out += "\"\"";
        } else {
          append_csv_field(out, v);
        }
      }
      void operator()(const JsonText& v) const { append_csv_field(out, v.text); }
    };
    std::visit(Visitor{buffer_}, cell);
  }
};

class JsonLinesWriter final : public BufferedWriter {
 public:
  using BufferedWriter::BufferedWriter;

  void header(const std::vector<std::string>& columns) override {
    keys_.clear();
    for (const auto& column : columns) {
      std::string key;
      append_json_string(key, column);
      keys_.push_back(std::move(key));
    }
  }

  void row(std::span<const Cell> cells) override {
    buffer_ += '{';
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) buffer_ += ',';
      buffer_ += keys_[i];
      buffer_ += ':';
      append(cells[i]);
    }
    buffer_ += "}\n";
    end_row();
  }

 private:
  void append(const Cell& cell) {
    struct Visitor {
      std::string& out;
      void operator()(std::monostate) const { out += "null"; }
      void operator()(std::int64_t v) const { out += std::to_string(v); }
      void operator()(double v) const { out += std::isfinite(v) ? format_float(v) : "null"; }
      void operator()(bool v) const { out += v ? "true" : "false"; }
      void operator()(const std::string& v) const { append_json_string(out, v); }
      void operator()(const JsonText& v) const { out += v.text; }
    };
    std::visit(Visitor{buffer_}, cell);
  }

  std::vector<std::string> keys_;  // as JSON string literals
};

}  // namespace

std::unique_ptr<TableWriter> make_csv_writer(std::ostream& out) {
  return std::make_unique<CsvWriter>(out);
}

std::unique_ptr<TableWriter> make_json_lines_writer(std::ostream& out) {
  return std::make_unique<JsonLinesWriter>(out);
}

void append_csv_field(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t length = utf8_sequence_at(text, i);
      if (length == 0) {
        out += "\xef\xbf\xbd";  // U+FFFD for a byte that starts no valid sequence
        ++i;
      } else {
        out.append(text, i, length);
        i += length;
      }
      continue;
    }
    if (c == '"') {
      out += "\\\"";
    } else if (append_backslash_escape(out, static_cast<char>(c))) {
      // \\ \n \r \t
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
}

std::string format_float(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::array<char, 32> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  std::string text(buffer.data(), end);
  // "3" would read back as an integer; a float column should stay one.
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

}  // namespace sqltrack
