# The simulator's own suite: boto3 and the Debian awscli against running simulators.
add_test(NAME simulator/selftest
         COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_simulator.py)
set_tests_properties(simulator/selftest PROPERTIES LABELS simulator TIMEOUT 300)
