// SQLite (Debian libsqlite3-dev) for Swift. SQLITE_TRANSIENT is a macro cast Swift cannot
// import; this wrapper binds text with it (SQLite copies the bytes).
#ifndef IMAGEBUMP_CSQLITE_SHIM_H
#define IMAGEBUMP_CSQLITE_SHIM_H

#include <sqlite3.h>

static inline int imagebump_sqlite3_bind_text(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}

#endif
