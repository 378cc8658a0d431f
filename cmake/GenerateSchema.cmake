# Script mode: writes OUT with one EmbeddedMigration per schema/<engine>/NNNN_name.sql.
file(GLOB_RECURSE files RELATIVE "${SCHEMA_DIR}" "${SCHEMA_DIR}/*.sql")
list(SORT files)
set(body "")
foreach(rel IN LISTS files)
  get_filename_component(engine "${rel}" DIRECTORY)
  get_filename_component(name "${rel}" NAME)
  file(READ "${SCHEMA_DIR}/${rel}" sql)
  string(APPEND body "    {\"${engine}\", \"${name}\", R\"sqltrack_sql(${sql})sqltrack_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from schema/*.sql by cmake/GenerateSchema.cmake. Do not edit.
#include \"sqltrack/schema/schema_files.hpp\"

namespace sqltrack {

const std::vector<EmbeddedMigration>& embedded_migrations() {
  static const std::vector<EmbeddedMigration> migrations{
${body}  };
  return migrations;
}

}  // namespace sqltrack
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
