# The simulator's own suites (ctest -L simulator): boto3 and the Debian awscli against running
# simulators. selftest covers the core (protocols, SigV4, STS, Organizations, IAM, metadata,
# faults, throttling); services covers the CloudTrail, Config, EC2, RDS, ELB, Lambda and S3
# modules, the scenarios and the generator.
add_test(NAME simulator/selftest
         COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_simulator.py)
add_test(NAME simulator/services
         COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_services.py)
set_tests_properties(simulator/selftest simulator/services PROPERTIES
                     LABELS simulator TIMEOUT 300)
