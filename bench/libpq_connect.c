/* The least any libpq client pays to be connected, for bench/wrapper_overhead.py:
 * load libpq.so.5 the way sqltrack does (dlopen, GnuTLS's load-time initialization
 * skipped), connect, send one empty query, disconnect. bench/wrapper_overhead.py
 * compiles it with cc and times it beside `sqltrack-run -- true`.
 *
 *   libpq_connect CONNINFO      exit 0 when connected, 1 otherwise
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef void* (*connectdb_fn)(const char*);
typedef int (*status_fn)(const void*);
typedef void* (*exec_fn)(void*, const char*);
typedef void (*clear_fn)(void*);
typedef void (*finish_fn)(void*);

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: libpq_connect CONNINFO\n");
    return 2;
  }
  setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
  void* libpq = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (libpq == NULL) {
    fprintf(stderr, "libpq_connect: %s\n", dlerror());
    return 1;
  }
  connectdb_fn connectdb = (connectdb_fn)dlsym(libpq, "PQconnectdb");
  status_fn status = (status_fn)dlsym(libpq, "PQstatus");
  exec_fn exec = (exec_fn)dlsym(libpq, "PQexec");
  clear_fn clear = (clear_fn)dlsym(libpq, "PQclear");
  finish_fn finish = (finish_fn)dlsym(libpq, "PQfinish");
  void* connection = connectdb(argv[1]);
  int ok = status(connection) == 0; /* CONNECTION_OK */
  if (ok) clear(exec(connection, ""));
  finish(connection);
  return ok ? 0 : 1;
}
