# Layering the build can see. The engine sees sync state and stores only
# through their interfaces (state/state_backend.hpp, syncmlkit/datastore.hpp),
# and those interfaces name no storage either: no file under DIR may include
# SQLiteCpp, sqlite3.h, libpq, lib/sqlite/, lib/pg/, lib/store/ or the
# SQLite state (state/sqlite/). Fails naming each such include.
#   cmake -DDIR=<folder> [-DHEADERS=ON] [-DALSO=<regex of further includes>] -P engine_includes.cmake
# HEADERS=ON checks the folder's own headers only (lib/state's interfaces,
# not its implementations: lib/state/sqlite/, lib/state/postgres/, and
# open_backend.cpp, which picks one of them).
if(NOT DIR OR NOT IS_DIRECTORY "${DIR}")
  message(FATAL_ERROR "engine_includes.cmake: DIR (the folder to check) is missing or not a folder: '${DIR}'")
endif()
if(HEADERS)
  file(GLOB files "${DIR}/*.hpp" "${DIR}/*.h")
else()
  file(GLOB_RECURSE files "${DIR}/*.cpp" "${DIR}/*.hpp" "${DIR}/*.h")
endif()
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "engine_includes.cmake: no source files under ${DIR}")
endif()
set(paths "SQLiteCpp/|sqlite3\\.h|libpq-fe\\.h|sqlite/|pg/|store/|state/sqlite/")
if(ALSO)
  string(APPEND paths "|${ALSO}")
endif()
set(forbidden "^[ \t]*#[ \t]*include[ \t]*[<\"](${paths})")
set(found "")
foreach(f IN LISTS files)
  file(STRINGS "${f}" lines REGEX "#[ \t]*include")
  foreach(line IN LISTS lines)
    if(line MATCHES "${forbidden}")
      file(RELATIVE_PATH rel "${DIR}" "${f}")
      string(APPEND found "\n  ${rel}: ${line}")
    endif()
  endforeach()
endforeach()
if(found)
  message(FATAL_ERROR "includes of storage that ${DIR} should see only through interfaces:${found}")
endif()
message(STATUS "${count} files under ${DIR}: none includes SQLite, PostgreSQL or a store")
