#pragma once
// Debian's dygraphs (libjs-dygraphs, MIT), embedded at build time by cmake/EmbedDygraphs.cmake:
// the report's zoomable charts, inlined so the page fetches nothing.

#include <string>

namespace sqltrack {

const std::string& dygraphs_js();
const std::string& dygraphs_css();

}  // namespace sqltrack
