# syncmlkit-admin's snapshots and restore as a user runs them, on a data dir
# where embed_c_server ran a refresh from a client (its test runs first:
# FIXTURES_REQUIRED): list the snapshots, restore the newest by its short
# name, refuse a missing one.
execute_process(COMMAND ${ADMIN} --data ${DATA} snapshots alice contacts RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\n[0-9T]+Z-[0-9]+-refresh-from-client +[0-9]+  [^\n]*/contacts-[0-9T]+Z-[0-9]+-refresh-from-client\\.sqlite")
  message(FATAL_ERROR "listing failed (${rc}): ${out} ${err}")
endif()
string(REGEX MATCH "\n[0-9T]+Z-[0-9]+-refresh-from-client" snapshot "${out}")
string(STRIP "${snapshot}" snapshot)
execute_process(COMMAND ${ADMIN} --data ${DATA} restore alice contacts ${snapshot} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^restored alice/contacts from ${snapshot}: ")
  message(FATAL_ERROR "restore failed (${rc}): ${out} ${err}")
endif()
execute_process(COMMAND ${ADMIN} --data ${DATA} restore alice contacts ${DATA}/no-such.sqlite RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "no snapshot \".*/no-such.sqlite\" of alice/contacts")
  message(FATAL_ERROR "a missing snapshot should fail with a message (${rc}): ${err}")
endif()
