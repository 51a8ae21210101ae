# Re-encodes captured XML messages as WBXML with syncmlkit-dump --encode=wbxml
# and decodes the result with Debian's wbxml2xml tool: it must succeed and
# show the message's key fields.
file(MAKE_DIRECTORY ${OUT})
foreach(case IN ITEMS
    "funambol/first-messages/contacts-vcard21-basic-twoway/msg01.xml;<LocURI>fol-pimsync-test</LocURI>"
    "syncevolution/sessions/contacts-2-two-way-changes-xml/msg002_006_outgoing.xml;<Replace>"
    "horde/testcase_sync4j_pocketpc_contacts/syncml_client_11.xml;<MaxMsgSize")
  list(GET case 0 file)
  list(GET case 1 expected)
  get_filename_component(stem ${file} NAME_WE)
  set(wbxml ${OUT}/${stem}.wbxml)
  execute_process(COMMAND ${DUMP} --encode=wbxml ${DIR}/${file} OUTPUT_FILE ${wbxml} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "syncmlkit-dump --encode=wbxml ${file} failed (${rc})")
  endif()
  execute_process(COMMAND ${WBXML2XML} -o ${OUT}/${stem}.xml ${wbxml} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "wbxml2xml refused the WBXML of ${file} (${rc}): ${out} ${err}")
  endif()
  file(READ ${OUT}/${stem}.xml xml)
  string(FIND "${xml}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "wbxml2xml's rendering of ${file} lacks '${expected}':\n${xml}")
  endif()
endforeach()
