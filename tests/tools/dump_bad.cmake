# syncmlkit-dump on broken files: exit status 1 and a message saying what is wrong.
foreach(case IN ITEMS "truncated.wbxml;runs past the end of data" "unknown-token.wbxml;unknown tag token 0x30"
                      "not-syncml.xml;not <SyncML>" "broken.xml;line 3, column")
  list(GET case 0 file)
  list(GET case 1 expected)
  execute_process(COMMAND ${DUMP} ${DIR}/${file} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "syncmlkit-dump ${file}: exit status ${rc}, expected 1")
  endif()
  string(FIND "${err}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "syncmlkit-dump ${file}: '${err}' does not say '${expected}'")
  endif()
endforeach()
