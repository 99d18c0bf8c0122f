# The credential provider chain end to end: `evident request sts
# GetCallerIdentity` with each source configured in turn, against the local
# AWS simulator (STS, instance metadata, container credentials). Each set
# runs under its own scenario. ctest -L simulator
set(EV_CRED_SCENARIOS
    "chain=${EV_TESTS_DIR}/simulator/scenarios/credential-chain.json"
    "imds-v1=${CMAKE_CURRENT_LIST_DIR}/imds-v1.json"
    "imds-v2-only=${CMAKE_CURRENT_LIST_DIR}/imds-v2-only.json")
foreach(entry ${EV_CRED_SCENARIOS})
  string(REGEX REPLACE "=.*" "" set_name "${entry}")
  string(REGEX REPLACE "^[^=]*=" "" scenario "${entry}")
  add_test(NAME credentials/${set_name}
    COMMAND ${EV_TESTS_DIR}/simulator/run-with-sim ${scenario} --
            ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_chain.py
            --evident $<TARGET_FILE:evident> --set ${set_name})
  set_tests_properties(credentials/${set_name} PROPERTIES LABELS simulator TIMEOUT 300)
endforeach()
