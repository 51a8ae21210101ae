// Input of the test engine_includes_check_catches: an engine file that names
// SQLite and the SQLite store, which engine_includes.cmake must refuse.
#include "engine/session.hpp"
#include <SQLiteCpp/Database.h>
#include "store/sqlite_datastore.hpp"
