# Runs the manual's Example 2 and checks that it consumed exactly 0, 1, 2, 3, 4 in order and
# produced each value once. The example prints from two workers with several `<<` per line,
# which may interleave mid-line when both run at once; pinned to one CPU (same program, same
# two workers) the lines stay whole, so the check is about the channel, not about cout.
find_program(TASKSET taskset)
set(command ${PROGRAM})
if(TASKSET)
  set(command ${TASKSET} -c 0 ${PROGRAM})
endif()
execute_process(COMMAND ${command} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "example exited with ${rc}")
endif()
string(REGEX MATCHALL "Consumed [0-9]+" consumed "${out}")
string(REGEX MATCHALL "Producing [0-9]+" produced "${out}")
set(expected_consumed "Consumed 0;Consumed 1;Consumed 2;Consumed 3;Consumed 4")
set(expected_produced "Producing 0;Producing 1;Producing 2;Producing 3;Producing 4")
if(NOT consumed STREQUAL expected_consumed OR NOT produced STREQUAL expected_produced)
  message(FATAL_ERROR "unexpected output:\n${out}")
endif()
