# syncmlkit-restore as a user runs it, on a data dir where embed_c_server ran
# a refresh from a client (its test runs first: FIXTURES_REQUIRED): list the
# snapshots, restore the newest, refuse a missing one.
execute_process(COMMAND ${RESTORE} --data ${DATA} alice contacts RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "contacts-[0-9T]+Z-[0-9]+-refresh-from-client\\.sqlite")
  message(FATAL_ERROR "listing failed (${rc}): ${out} ${err}")
endif()
string(REGEX MATCH "[^\n]+\\.sqlite" snapshot "${out}")
execute_process(COMMAND ${RESTORE} --data ${DATA} alice contacts ${snapshot} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^restored alice/contacts from ")
  message(FATAL_ERROR "restore failed (${rc}): ${out} ${err}")
endif()
execute_process(COMMAND ${RESTORE} --data ${DATA} alice contacts ${DATA}/no-such.sqlite RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "cannot restore")
  message(FATAL_ERROR "a missing snapshot should fail with a message (${rc}): ${err}")
endif()
