// libpq (Debian libpq-dev) for Swift: PostgreSQL's client library, wrapped once in Sources/Postgres.
#ifndef IMAGEBUMP_CPOSTGRES_SHIM_H
#define IMAGEBUMP_CPOSTGRES_SHIM_H

#include <libpq-fe.h>

#endif
