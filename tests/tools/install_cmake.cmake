# The library's CMake package works from any install prefix: `cmake --install`
# into a prefix given only then, the prefix moved elsewhere afterwards, and a
# C++ project (consumer/) that only does find_package(SyncMLKit 0.1) with
# CMAKE_PREFIX_PATH set to it configures, builds, and runs against the
# installed library (its version, a message decoded; a class derived from
# smk::AuthProvider called back by the library, and the library's
# DecodeError and DatastoreError caught by type); it also compiles
# each installed header in a translation unit of its own.
#   cmake -DBUILD_DIR=... -DWORK=... -DCONSUMER=... -DCXX=... -DGENERATOR=... -DMESSAGE=... -P install_cmake.cmake
file(REMOVE_RECURSE ${WORK})
set(installed ${WORK}/installed)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${installed}
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${err}")
endif()
# Moved after installing: nothing may point back at where it was installed,
# nor at the build or source tree.
set(prefix ${WORK}/moved)
file(RENAME ${installed} ${prefix})
file(GLOB_RECURSE config_files ${prefix}/*/cmake/SyncMLKit/*.cmake)
if(NOT config_files)
  message(FATAL_ERROR "no CMake package files under ${prefix}")
endif()
foreach(f IN LISTS config_files)
  file(READ ${f} text)
  foreach(path ${installed} ${BUILD_DIR} ${SOURCE_DIR} /usr/local)
    string(FIND "${text}" "${path}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} names ${path}: the package is not relocatable")
    endif()
  endforeach()
endforeach()

execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER} -B ${WORK}/consumer -G ${GENERATOR}
                        -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the consumer project failed:\n${out}\n${err}")
endif()
# The consumer compiles each installed header on its own (syncmlkit.h as C++).
file(GLOB installed_headers ${prefix}/include/syncmlkit.h ${prefix}/include/syncmlkit/*.hpp)
list(LENGTH installed_headers header_count)
if(header_count LESS 2 OR NOT out MATCHES "SyncMLKit headers compiled one by one: ${header_count}\n")
  message(FATAL_ERROR "the consumer does not compile each of the ${header_count} installed headers:\n${out}")
endif()
file(STRINGS ${WORK}/consumer/CMakeCache.txt found REGEX "^SyncMLKit_DIR:")
get_filename_component(real_prefix ${prefix} REALPATH)
string(REGEX REPLACE "^[^=]*=" "" found_dir "${found}")
get_filename_component(found_dir "${found_dir}" REALPATH)
if(NOT found_dir MATCHES "^${real_prefix}/")
  message(FATAL_ERROR "find_package(SyncMLKit) found ${found_dir}, not the package under ${prefix}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/consumer
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the consumer against the installed package failed:\n${out}\n${err}")
endif()
# No LD_LIBRARY_PATH: the imported target's location gives the program its run path.
execute_process(COMMAND ${WORK}/consumer/consumer ${MESSAGE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "syncmlkit [0-9]+\\.[0-9]+\\.[0-9]+\nsource fol-pimsync-test\ncommands 3\n"
   OR NOT out MATCHES "\ncheck_password alice/secret 1 alice/wrong 0 bob/secret 0\n"
   OR NOT out MATCHES "\ndecode: caught smk::wire::DecodeError\nopen: caught smk::DatastoreError\n")
  message(FATAL_ERROR "the consumer did not decode the message with the installed library (exit ${rc}):\n${out}\n${err}")
endif()
file(GLOB_RECURSE loaded ${prefix}/*/libsyncmlkit.so.*)
execute_process(COMMAND ldd ${WORK}/consumer/consumer OUTPUT_VARIABLE ldd_out)
if(NOT ldd_out MATCHES "libsyncmlkit\\.so\\.[0-9]+ => ${real_prefix}/")
  message(FATAL_ERROR "the consumer does not load libsyncmlkit from ${prefix}:\n${ldd_out}")
endif()
string(REPLACE "\n" "; " summary "${out}")
message(STATUS "installed into ${installed}, moved to ${prefix}; find_package found ${found_dir}; "
               "the ${header_count} installed headers compiled one by one; the consumer printed: ${summary}")
