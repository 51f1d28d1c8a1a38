# End-to-end checks of `picotag eval`, one case per ctest test.
# Usage: cmake -DPICOTAG=<command> -DFIXTURE=<directory> -DCASE=<name> -P eval_cli.cmake
# FIXTURE holds the files written by make_eval_fixture. Its labels make the
# truth of each photo exactly (logit >= threshold), so a correct evaluation
# reports 1 for mAP, CP, CR, CF1, OP, OR and OF1.

function(run_picotag expected_status)
  execute_process(COMMAND ${PICOTAG} ${ARGN}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL expected_status)
    message(FATAL_ERROR "picotag ${ARGN}: expected exit status ${expected_status}, got ${status}\n"
                        "stdout:\n${out}\nstderr:\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

function(expect_contains text needle what)
  string(FIND "${text}" "${needle}" position)
  if(position EQUAL -1)
    message(FATAL_ERROR "${what} does not contain \"${needle}\":\n${text}")
  endif()
endfunction()

# Checks that the JSON member at the path given after `expected` reads
# exactly `expected`, as CMake's string(JSON) prints it.
function(expect_json json expected)
  string(JSON actual GET "${json}" ${ARGN})
  if(NOT actual STREQUAL expected)
    message(FATAL_ERROR "JSON ${ARGN}: expected ${expected}, got ${actual}\n${json}")
  endif()
endfunction()

function(expect_perfect_metrics json)
  foreach(key mAP CP CR CF1 OP OR OF1)
    expect_json("${json}" 1 ${key})
  endforeach()
endfunction()

function(expect_same_files expected actual)
  file(READ ${expected} expected_text)
  file(READ ${actual} actual_text)
  if(NOT expected_text STREQUAL actual_text)
    message(FATAL_ERROR "${actual} differs from ${expected}:\nexpected:\n${expected_text}\nactual:\n${actual_text}")
  endif()
endfunction()

set(MODEL --model ${FIXTURE}/model.ptm)

if(CASE STREQUAL "help")
  run_picotag(0 eval --help)
  expect_contains("${out}" "usage: picotag eval [--model FILE]" "stdout")
  expect_contains("${out}" "  1  the metrics were reported, but some photos could not be read" "stdout")
  run_picotag(0 --help)
  expect_contains("${out}" "eval " "stdout")

elseif(CASE STREQUAL "perfect_csv")
  run_picotag(0 eval ${MODEL} --json --threads 1 --scores-out ${FIXTURE}/scores_csv.csv
              ${FIXTURE}/labels.csv)
  expect_perfect_metrics("${out}")
  expect_json("${out}" 10 photo_count)
  expect_json("${out}" 0 failed_count)
  expect_json("${out}" 4 classes_with_positives)
  expect_json("${out}" "hot dog" per_class name 2)
  expect_json("${out}" 1 per_class average_precision 3)
  expect_json("${out}" coco_split ignored 0)
  expect_json("${out}" width ignored 1)
  # The logits of the command equal those computed photo by photo through
  # the library, including the row of the file name with a comma.
  expect_same_files(${FIXTURE}/expected_logits.csv ${FIXTURE}/scores_csv.csv)

elseif(CASE STREQUAL "default_model")
  # Without --model, $PICOTAG_MODEL names the model.
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PICOTAG_MODEL=${FIXTURE}/model.ptm
                          ${PICOTAG} eval --json --threads 1 ${FIXTURE}/labels.csv
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "expected exit status 0, got ${status}\nstderr:\n${err}")
  endif()
  expect_json("${out}" ${FIXTURE}/model.ptm model)
  expect_perfect_metrics("${out}")

elseif(CASE STREQUAL "threads_identical")
  run_picotag(1 eval ${MODEL} --json --threads 1 --scores-out ${FIXTURE}/scores_1.csv
              ${FIXTURE}/labels_with_broken.csv)
  set(one_thread "${out}")
  run_picotag(1 eval ${MODEL} --json --threads 3 --scores-out ${FIXTURE}/scores_3.csv
              ${FIXTURE}/labels_with_broken.csv)
  if(NOT out STREQUAL one_thread)
    message(FATAL_ERROR "--threads 3 output differs from --threads 1:\n${one_thread}\n${out}")
  endif()
  expect_same_files(${FIXTURE}/scores_1.csv ${FIXTURE}/scores_3.csv)

elseif(CASE STREQUAL "table")
  run_picotag(0 eval ${MODEL} --threads 2 ${FIXTURE}/labels.csv)
  expect_contains("${out}" "photos      10 evaluated, 0 failed and excluded" "stdout")
  expect_contains("${out}" "mAP         100.00 % (mean over the 4 classes with positives)" "stdout")
  expect_contains("${out}" "CP 100.00 %  CR 100.00 %  CF1 100.00 %" "stdout")
  expect_contains("${out}" "ignored     2 columns that name no class of the model: coco_split, width" "stdout")
  expect_contains("${out}" "    3  cell phone" "stdout")

elseif(CASE STREQUAL "failed_photo")
  run_picotag(1 eval ${MODEL} --json --threads 2 --scores-out ${FIXTURE}/scores_broken.csv
              ${FIXTURE}/labels_with_broken.csv)
  expect_contains("${err}" "broken.jpg" "stderr")
  expect_contains("${err}" "(left out of the metrics)" "stderr")
  expect_perfect_metrics("${out}")
  expect_json("${out}" 10 photo_count)
  expect_json("${out}" 1 failed_count)
  expect_json("${out}" photos/broken.jpg failed_photos 0 file)
  # The broken photo, labelled positive for every class, is left out, so
  # the metrics stay perfect and its row is absent from the logits.
  expect_same_files(${FIXTURE}/expected_logits.csv ${FIXTURE}/scores_broken.csv)
  string(REGEX MATCHALL "\n" lines "${err}")
  list(LENGTH lines line_count)
  if(NOT line_count EQUAL 1)
    message(FATAL_ERROR "expected one stderr line for the one broken photo, got ${line_count}:\n${err}")
  endif()

elseif(CASE STREQUAL "coco")
  run_picotag(0 eval ${MODEL} --json --threads 2 --images ${FIXTURE}/photos
              ${FIXTURE}/coco/instances.json)
  expect_perfect_metrics("${out}")
  expect_json("${out}" 10 photo_count)
  expect_json("${out}" zebra ignored 0)
  run_picotag(0 eval ${MODEL} --threads 1 --images ${FIXTURE}/photos ${FIXTURE}/coco/instances.json)
  expect_contains("${out}" "ignored     1 categories that name no class of the model: zebra" "stdout")
  # Without --images, paths start from the JSON file's folder, where the
  # photos are not.
  run_picotag(3 eval ${MODEL} --threads 1 ${FIXTURE}/coco/instances.json)
  expect_contains("${err}" "none of the 10 photos could be read" "stderr")

elseif(CASE STREQUAL "missing_class")
  run_picotag(3 eval ${MODEL} --threads 1 ${FIXTURE}/labels_missing.csv)
  expect_contains("${err}" "labels_missing.csv: no column for 1 of the model's classes: \"cell phone\"" "stderr")
  run_picotag(0 eval ${MODEL} --json --threads 1 --allow-missing-classes ${FIXTURE}/labels_missing.csv)
  expect_perfect_metrics("${out}")
  expect_json("${out}" 3 labelled_class_count)
  expect_json("${out}" OFF per_class labelled 3)
  expect_json("${out}" ON per_class labelled 2)

elseif(CASE STREQUAL "bad_labels")
  run_picotag(3 eval ${MODEL} --threads 1 ${FIXTURE}/labels_bad.csv)
  expect_contains("${err}" "labels_bad.csv:3: column \"hot dog\": invalid label \"maybe\", expected 0 or 1" "stderr")
  run_picotag(3 eval ${MODEL} ${FIXTURE}/no-such-labels.csv)
  expect_contains("${err}" "no-such-labels.csv: cannot open" "stderr")
  run_picotag(3 eval --model ${FIXTURE}/no-such-model.ptm ${FIXTURE}/labels.csv)
  expect_contains("${err}" "no-such-model.ptm: cannot open" "stderr")
  run_picotag(3 eval ${MODEL} --scores-out ${FIXTURE}/no-such-folder/scores.csv ${FIXTURE}/labels.csv)
  expect_contains("${err}" "no-such-folder/scores.csv: cannot create" "stderr")

elseif(CASE STREQUAL "usage_errors")
  run_picotag(2 eval ${MODEL})
  expect_contains("${err}" "missing LABELS" "stderr")
  run_picotag(2 eval ${MODEL} --threads 0 ${FIXTURE}/labels.csv)
  expect_contains("${err}" "--threads expects a count from 1 to 256, got '0'" "stderr")
  run_picotag(2 eval ${MODEL} --threads many ${FIXTURE}/labels.csv)
  run_picotag(2 eval ${MODEL} --frobnicate ${FIXTURE}/labels.csv)
  expect_contains("${err}" "unknown option '--frobnicate'" "stderr")
  run_picotag(2 eval ${MODEL} ${FIXTURE}/labels.csv ${FIXTURE}/labels.csv)
  expect_contains("${err}" "unexpected argument" "stderr")
  run_picotag(2 eval ${FIXTURE}/labels.csv --model)

else()
  message(FATAL_ERROR "unknown CASE '${CASE}'")
endif()
