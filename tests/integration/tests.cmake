# The agent's commands against the local AWS simulator.
add_test(NAME integration/request
  COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_request.py $<TARGET_FILE:evident>)
set_tests_properties(integration/request PROPERTIES LABELS integration TIMEOUT 300)
add_test(NAME integration/demo
  COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_demo.py $<TARGET_FILE:evident>)
set_tests_properties(integration/demo PROPERTIES LABELS integration TIMEOUT 300)
add_test(NAME integration/collect
  COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_collect.py $<TARGET_FILE:evident>)
set_tests_properties(integration/collect PROPERTIES LABELS integration TIMEOUT 600)
