# The engine sees sync state and stores only through their interfaces
# (state/state_backend.hpp, syncmlkit/datastore.hpp): no file under DIR
# (lib/engine) may include SQLiteCpp, sqlite3.h, lib/sqlite/, lib/store/ or
# an implementation of the state (state/sqlite/). Fails naming each include.
#   cmake -DDIR=<lib/engine> -P engine_includes.cmake
if(NOT DIR OR NOT IS_DIRECTORY "${DIR}")
  message(FATAL_ERROR "engine_includes.cmake: DIR (the folder to check) is missing or not a folder: '${DIR}'")
endif()
file(GLOB_RECURSE files "${DIR}/*.cpp" "${DIR}/*.hpp" "${DIR}/*.h")
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "engine_includes.cmake: no source files under ${DIR}")
endif()
set(forbidden "^[ \t]*#[ \t]*include[ \t]*[<\"](SQLiteCpp/|sqlite3\\.h|sqlite/|store/|state/sqlite/)")
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
  message(FATAL_ERROR "the engine includes the storage it should see only through interfaces:${found}")
endif()
message(STATUS "${count} files under ${DIR}: none includes SQLite or a store")
