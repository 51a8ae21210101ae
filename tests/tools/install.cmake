# The library installs like any other: `cmake --install` into a prefix given
# only then, and a C program built against it through pkg-config alone
# compiles, links and answers a SyncML message. The installed header alone
# compiles as strict C99 (-pedantic) and as C++11 and C++17, and programs
# built so link against the installed library and print its version.
#   cmake -DBUILD_DIR=... -DWORK=... -DSOURCE=... -DMESSAGE=... -DVERSION=...
#         -DHEADER_C=capi_header.c -DHEADER_CXX=capi_header.cpp -P install.cmake
file(REMOVE_RECURSE ${WORK})
set(prefix ${WORK}/prefix)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix}
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${err}")
endif()
file(GLOB_RECURSE pc_files ${prefix}/*/syncmlkit.pc)
list(LENGTH pc_files n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected one syncmlkit.pc under ${prefix}, found: ${pc_files}")
endif()
get_filename_component(pc_dir ${pc_files} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
execute_process(COMMAND pkg-config --cflags --libs syncmlkit RESULT_VARIABLE rc
                OUTPUT_VARIABLE flags ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config failed: ${err}")
endif()
string(REGEX MATCH "-I([^ ]+)" _ "${flags}")
get_filename_component(include_dir "${CMAKE_MATCH_1}" REALPATH)
string(REGEX MATCH "-L([^ ]+)" _ "${flags}")
get_filename_component(lib_dir "${CMAKE_MATCH_1}" REALPATH)
get_filename_component(real_prefix "${prefix}" REALPATH)
if(NOT include_dir STREQUAL "${real_prefix}/include" OR NOT EXISTS "${include_dir}/syncmlkit.h"
   OR NOT lib_dir MATCHES "^${real_prefix}/lib")
  message(FATAL_ERROR "pkg-config does not point into the install prefix ${prefix}: ${flags}")
endif()
separate_arguments(flag_list UNIX_COMMAND "${flags}")
execute_process(COMMAND cc -std=c99 -Wall -Wextra -Werror ${SOURCE} ${flag_list} -o ${WORK}/server
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building examples/embed_c/server.c against the installed library failed: ${err}")
endif()
set(ENV{LD_LIBRARY_PATH} ${lib_dir})
execute_process(COMMAND ${WORK}/server ${WORK}/data alice:secret ${MESSAGE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "<Data>212</Data>")
  message(FATAL_ERROR "the installed library did not answer the message (exit ${rc}):\n${out}\n${err}")
endif()
set(header_builds "c99|cc|-std=c99|${HEADER_C}" "c++11|c++|-std=c++11|${HEADER_CXX}"
                  "c++17|c++|-std=c++17|${HEADER_CXX}")
foreach(build IN LISTS header_builds)
  string(REPLACE "|" ";" build "${build}")
  list(GET build 0 name)
  list(GET build 1 compiler)
  list(GET build 2 std)
  list(GET build 3 source)
  set(warnings -pedantic -Wall -Wextra -Werror)
  if(name STREQUAL "c99")
    list(APPEND warnings -Wstrict-prototypes -Wmissing-prototypes)
  endif()
  execute_process(COMMAND ${compiler} ${std} ${warnings} ${source} ${flag_list} -o ${WORK}/header_${name}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " shown "${std};${warnings}")
    message(FATAL_ERROR "the installed syncmlkit.h does not build as ${name} (${shown}):\n${out}${err}")
  endif()
  execute_process(COMMAND ${WORK}/header_${name} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT out STREQUAL "syncmlkit ${VERSION}\n")
    message(FATAL_ERROR "the ${name} program against the installed library printed (exit ${rc}) '${out}', "
                        "not 'syncmlkit ${VERSION}':\n${err}")
  endif()
endforeach()
message(STATUS "installed into ${prefix}; pkg-config: ${flags}; the C host built against it answered 212; "
               "syncmlkit.h builds as c99, c++11 and c++17 with -pedantic -Werror and each program printed "
               "syncmlkit ${VERSION}")
