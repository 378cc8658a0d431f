// libpq, loaded on first use. The executables do not link libpq: it pulls in
// about twenty shared libraries (Kerberos, LDAP, GnuTLS, OpenSSL...) whose
// loading and relocation cost every sqltrack-run start ~15 ms and ~1.5 MB of
// RSS, also on SQLite. Instead, this file defines the few PQ* functions the
// project calls, with libpq-fe.h's exact signatures, and each forwards to the
// real one, resolved from libpq.so.5 the first time a PQ* function is called.
// Callers keep using the plain libpq API.
//
// These definitions are not exported from the executables (no -rdynamic), so
// libpq's own internal calls still bind to libpq itself.
//
// When libpq.so.5 cannot be loaded, the call throws DatabaseError(connection)
// with a message that says so: the wrapper then warns and runs the command
// unrecorded, like for an unreachable server.

#include <dlfcn.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "sqltrack/util/error.hpp"

namespace sqltrack::db {
namespace {

constexpr const char* kLibpq = "libpq.so.5";

void* libpq_handle() {
  static void* handle = nullptr;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    // libpq needs GnuTLS only through LDAP, which initializes it when it is used; GnuTLS's
    // own load-time initialization would cost every start ~2 ms and ~0.9 MB of RSS. The
    // variable is set only around dlopen (the first database use, before the wrapper starts
    // any thread), and a user's own setting is left as it is.
    constexpr const char* kSkipInit = "GNUTLS_NO_IMPLICIT_INIT";
    bool set_here = ::getenv(kSkipInit) == nullptr && ::setenv(kSkipInit, "1", 0) == 0;
    handle = ::dlopen(kLibpq, RTLD_NOW | RTLD_LOCAL);
    if (set_here) ::unsetenv(kSkipInit);
    if (handle == nullptr) {
      const char* reason = ::dlerror();
      error = reason ? reason : "unknown error";
    }
  });
  if (handle == nullptr) {
    throw DatabaseError(DatabaseError::Kind::connection,
                        "PostgreSQL needs the libpq client library, which cannot be loaded (" +
                            error + "); install it (Debian: apt-get install libpq5)");
  }
  return handle;
}

void* resolve(const char* name) {
  void* symbol = ::dlsym(libpq_handle(), name);
  if (symbol == nullptr) {
    throw DatabaseError(DatabaseError::Kind::connection,
                        std::string(kLibpq) + " has no function " + name + "; it is too old");
  }
  return symbol;
}

// The real function of the same name and type, resolved once.
#define SQLTRACK_LIBPQ(name)                                                       \
  [] {                                                                             \
    static auto* const real = reinterpret_cast<decltype(&::name)>(resolve(#name)); \
    return real;                                                                   \
  }()

}  // namespace
}  // namespace sqltrack::db

using sqltrack::db::resolve;

extern "C" {

PGconn* PQconnectdbParams(const char* const* keywords, const char* const* values,
                          int expand_dbname) {
  return SQLTRACK_LIBPQ(PQconnectdbParams)(keywords, values, expand_dbname);
}
void PQfinish(PGconn* conn) {
  SQLTRACK_LIBPQ(PQfinish)(conn);
}
ConnStatusType PQstatus(const PGconn* conn) {
  return SQLTRACK_LIBPQ(PQstatus)(conn);
}
char* PQerrorMessage(const PGconn* conn) {
  return SQLTRACK_LIBPQ(PQerrorMessage)(conn);
}
char* PQhost(const PGconn* conn) {
  return SQLTRACK_LIBPQ(PQhost)(conn);
}
char* PQport(const PGconn* conn) {
  return SQLTRACK_LIBPQ(PQport)(conn);
}
char* PQdb(const PGconn* conn) {
  return SQLTRACK_LIBPQ(PQdb)(conn);
}
char* PQuser(const PGconn* conn) {
  return SQLTRACK_LIBPQ(PQuser)(conn);
}
PQnoticeProcessor PQsetNoticeProcessor(PGconn* conn, PQnoticeProcessor proc, void* arg) {
  return SQLTRACK_LIBPQ(PQsetNoticeProcessor)(conn, proc, arg);
}
PQconninfoOption* PQconndefaults(void) {
  return SQLTRACK_LIBPQ(PQconndefaults)();
}
void PQconninfoFree(PQconninfoOption* options) {
  SQLTRACK_LIBPQ(PQconninfoFree)(options);
}
// A database URI or connection string given as dbname (libpq's expand_dbname), parsed into
// its parameters by libpq itself so that it means what it means to libpq.
PQconninfoOption* PQconninfoParse(const char* conninfo, char** errmsg) {
  return SQLTRACK_LIBPQ(PQconninfoParse)(conninfo, errmsg);
}
void PQfreemem(void* ptr) {
  SQLTRACK_LIBPQ(PQfreemem)(ptr);
}

PGresult* PQexec(PGconn* conn, const char* query) {
  return SQLTRACK_LIBPQ(PQexec)(conn, query);
}
PGresult* PQexecParams(PGconn* conn, const char* command, int nParams, const Oid* paramTypes,
                       const char* const* paramValues, const int* paramLengths,
                       const int* paramFormats, int resultFormat) {
  return SQLTRACK_LIBPQ(PQexecParams)(conn, command, nParams, paramTypes, paramValues, paramLengths,
                                      paramFormats, resultFormat);
}
ExecStatusType PQresultStatus(const PGresult* res) {
  return SQLTRACK_LIBPQ(PQresultStatus)(res);
}
char* PQresultErrorMessage(const PGresult* res) {
  return SQLTRACK_LIBPQ(PQresultErrorMessage)(res);
}
char* PQresultErrorField(const PGresult* res, int fieldcode) {
  return SQLTRACK_LIBPQ(PQresultErrorField)(res, fieldcode);
}
int PQntuples(const PGresult* res) {
  return SQLTRACK_LIBPQ(PQntuples)(res);
}
int PQnfields(const PGresult* res) {
  return SQLTRACK_LIBPQ(PQnfields)(res);
}
char* PQfname(const PGresult* res, int field_num) {
  return SQLTRACK_LIBPQ(PQfname)(res, field_num);
}
char* PQgetvalue(const PGresult* res, int tup_num, int field_num) {
  return SQLTRACK_LIBPQ(PQgetvalue)(res, tup_num, field_num);
}
int PQgetlength(const PGresult* res, int tup_num, int field_num) {
  return SQLTRACK_LIBPQ(PQgetlength)(res, tup_num, field_num);
}
int PQgetisnull(const PGresult* res, int tup_num, int field_num) {
  return SQLTRACK_LIBPQ(PQgetisnull)(res, tup_num, field_num);
}
void PQclear(PGresult* res) {
  SQLTRACK_LIBPQ(PQclear)(res);
}

// Streaming a query through a cursor (Database::stream).
PGTransactionStatusType PQtransactionStatus(const PGconn* conn) {
  return SQLTRACK_LIBPQ(PQtransactionStatus)(conn);
}
Oid PQftype(const PGresult* res, int field_num) {
  return SQLTRACK_LIBPQ(PQftype)(res, field_num);
}

// COPY FROM STDIN, for metric batches.
int PQputCopyData(PGconn* conn, const char* buffer, int nbytes) {
  return SQLTRACK_LIBPQ(PQputCopyData)(conn, buffer, nbytes);
}
int PQputCopyEnd(PGconn* conn, const char* errormsg) {
  return SQLTRACK_LIBPQ(PQputCopyEnd)(conn, errormsg);
}
PGresult* PQgetResult(PGconn* conn) {
  return SQLTRACK_LIBPQ(PQgetResult)(conn);
}

}  // extern "C"
