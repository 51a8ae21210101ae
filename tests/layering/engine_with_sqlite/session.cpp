// Input of the test engine_includes_check_catches: an engine file that names
// SQLite, the SQLite store and lib/pg, which engine_includes.cmake must refuse.
#include "engine/session.hpp"
#include <SQLiteCpp/Database.h>
#include "store/sqlite_datastore.hpp"
#include "pg/connection.hpp"
