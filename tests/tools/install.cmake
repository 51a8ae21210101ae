# The library installs like any other: `cmake --install` into a prefix given
# only then, and a C program built against it through pkg-config alone
# compiles, links and answers a SyncML message.
#   cmake -DBUILD_DIR=... -DWORK=... -DSOURCE=... -DMESSAGE=... -P install.cmake
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
message(STATUS "installed into ${prefix}; pkg-config: ${flags}; the C host built against it answered 212")
