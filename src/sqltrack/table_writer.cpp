#include "sqltrack/table_writer.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "sqltrack/error.hpp"

namespace sqltrack {
namespace {

// Rows are handed to the stream in blocks of about this size.
constexpr std::size_t kFlushBytes = 1 << 16;

// The length of the valid UTF-8 sequence at text[i], or 0 when it is not one (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the allowed range of the second byte
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return length;
}

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
      std::size_t length = utf8_sequence(text, i);
      if (length == 0) {
        out += "\xef\xbf\xbd";  // U+FFFD for a byte that starts no valid sequence
        ++i;
      } else {
        out.append(text, i, length);
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
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
