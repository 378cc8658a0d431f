# The commit a build is made from, for `--version`: `git rev-parse --short HEAD` when the
# source directory is itself the top of a git checkout, else "unknown" (a tarball, an export,
# no git installed). It never fails a build.
function(sqltrack_source_commit source_dir out_var)
  set(commit "unknown")
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --show-toplevel --short HEAD
                    WORKING_DIRECTORY "${source_dir}" RESULT_VARIABLE rc OUTPUT_VARIABLE out
                    ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    # A source tree unpacked inside another checkout (a home directory kept in git) is not one.
    if(rc EQUAL 0 AND out MATCHES "^([^\n]*)\n([0-9a-f]+)$")
      set(top "${CMAKE_MATCH_1}")
      set(short "${CMAKE_MATCH_2}")
      file(REAL_PATH "${top}" top)
      file(REAL_PATH "${source_dir}" source)
      if(top STREQUAL source)
        set(commit "${short}")
      endif()
    endif()
  endif()
  set(${out_var} "${commit}" PARENT_SCOPE)
endfunction()

# Configure again when HEAD moves (a commit, a checkout), so that the commit stays true.
function(sqltrack_watch_source_commit source_dir)
  find_package(Git QUIET)
  if(NOT GIT_FOUND)
    return()
  endif()
  execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --symbolic-full-name HEAD
                  WORKING_DIRECTORY "${source_dir}" RESULT_VARIABLE rc OUTPUT_VARIABLE ref
                  ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(watched HEAD packed-refs)
  if(rc EQUAL 0 AND ref MATCHES "^refs/")
    list(APPEND watched "${ref}")
  endif()
  foreach(name IN LISTS watched)
    execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --path-format=absolute --git-path "${name}"
                    WORKING_DIRECTORY "${source_dir}" RESULT_VARIABLE rc OUTPUT_VARIABLE path
                    ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(rc EQUAL 0 AND EXISTS "${path}")
      set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${path}")
    endif()
  endforeach()
endfunction()
