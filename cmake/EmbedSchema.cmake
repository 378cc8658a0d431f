# Turns schema/<engine>/*.sql into a C++ source, so an installed binary
# carries its migrations and needs no data directory.
function(sqltrack_embed_schema out_var)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/schema_files.cpp")
  file(GLOB_RECURSE sql_files CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/schema/*.sql")
  list(SORT sql_files)
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSCHEMA_DIR=${PROJECT_SOURCE_DIR}/schema
            -P "${PROJECT_SOURCE_DIR}/cmake/GenerateSchema.cmake"
    DEPENDS ${sql_files} "${PROJECT_SOURCE_DIR}/cmake/GenerateSchema.cmake"
    COMMENT "Embedding SQL migrations")
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()
