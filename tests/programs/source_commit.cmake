# Prints on stdout the commit that a build of SOURCE_DIR would report in --version
# (cmake/SourceCommit.cmake): cmake -DSOURCE_DIR=DIR -P source_commit.cmake
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/SourceCommit.cmake")
sqltrack_source_commit("${SOURCE_DIR}" commit)
execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "${commit}")
