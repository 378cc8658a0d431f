# Debian's dygraphs (package libjs-dygraphs) inlined into the binary: `sqltrack report` writes
# one self-contained HTML file, and an installed or unpacked binary needs no data directory.
function(sqltrack_embed_dygraphs out_var)
  find_file(SQLTRACK_DYGRAPHS_JS dygraph.min.js PATHS /usr/share/javascript/dygraphs NO_DEFAULT_PATH)
  find_file(SQLTRACK_DYGRAPHS_CSS dygraph.min.css PATHS /usr/share/javascript/dygraphs NO_DEFAULT_PATH)
  if(NOT SQLTRACK_DYGRAPHS_JS OR NOT SQLTRACK_DYGRAPHS_CSS)
    message(FATAL_ERROR "dygraphs not found: install Debian's libjs-dygraphs (scripts/install-deps.sh)")
  endif()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/report_assets.cpp")
  set(body "")
  foreach(kind js css)
    string(TOUPPER "${kind}" upper)
    file(READ "${SQLTRACK_DYGRAPHS_${upper}}" text)
    # Pieces below the length a compiler must accept for one literal.
    string(LENGTH "${text}" length)
    set(pieces "")
    foreach(start RANGE 0 ${length} 30000)
      string(SUBSTRING "${text}" ${start} 30000 piece)
      string(APPEND pieces "      R\"sqltrack_asset(${piece})sqltrack_asset\",\n")
    endforeach()
    string(APPEND body "const std::string& dygraphs_${kind}() {
  static const std::string text = [] {
    const char* pieces[] = {
${pieces}    };
    std::string joined;
    for (const char* piece : pieces) joined += piece;
    return joined;
  }();
  return text;
}

")
  endforeach()
  file(WRITE "${out}.tmp" "// Generated from Debian's libjs-dygraphs by cmake/EmbedDygraphs.cmake. Do not edit.
#include \"sqltrack/read/report_assets.hpp\"

namespace sqltrack {

${body}}  // namespace sqltrack
")
  file(COPY_FILE "${out}.tmp" "${out}" ONLY_IF_DIFFERENT)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
    "${SQLTRACK_DYGRAPHS_JS}" "${SQLTRACK_DYGRAPHS_CSS}")
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()
