#!/usr/bin/env bash
# Drives the built picotag command as a person would, one case per ctest
# test, each in its own temporary folder.
# usage: tools_cli_test.sh CASE PICOTAG FIXTURE PYTHON HARD_INPUTS
#   FIXTURE      the folder make_tools_fixture wrote (photos, models)
#   PYTHON       a python3 for the JSON, CSV and SQLite checks
#   HARD_INPUTS  sample photos, used when present and never required
# Exits 0 when every check passed, 1 when one failed, 77 (skipped) when a
# tool the case needs is missing.
set -u

case_name=$1
picotag=$2
fixture=$3
python=$4
hard_inputs=$5
here=$(cd "$(dirname "$0")" && pwd)
check="$here/check_output.py"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "SKIP: python3 not found; the checks need it"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/picotag-tools-$case_name.XXXXXX")
background_pid=
cleanup() {
  if [ -n "$background_pid" ]; then
    kill -KILL "$background_pid" 2>/dev/null
  fi
  chmod -R u+rwx "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A fresh home, so the default catalogue and locale come from this test.
export HOME="$work/home" XDG_DATA_HOME="$work/data"
mkdir -p "$HOME"
unset PICOTAG_MODEL LC_MESSAGES
export LC_ALL=C LANG=C

model="$fixture/model.ptm"
model_b="$fixture/model_b.ptm"
model_sha=$(sha256sum "$model" | cut -d' ' -f1)
model_b_sha=$(sha256sum "$model_b" | cut -d' ' -f1)
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# run EXPECTED_STATUS ARGS...: runs picotag with stdout in $work/out and
# stderr in $work/err, and checks the exit status.
run() {
  local expected=$1
  shift
  timeout 20 "$picotag" "$@" >"$work/out" 2>"$work/err"
  local status=$?
  if [ "$status" -ne "$expected" ]; then
    fail "picotag $*: exit status $status, expected $expected"
    echo "--- stdout"; head -c 3000 "$work/out"
    echo "--- stderr"; head -c 3000 "$work/err"
  fi
}

# contains FILE TEXT: FILE contains TEXT as a fixed string.
contains() {
  if ! grep -qF -- "$2" "$1"; then
    fail "$(basename "$1") does not contain '$2':"
    head -c 2000 "$1"
  fi
}

lacks() {
  if grep -qF -- "$2" "$1"; then
    fail "$(basename "$1") contains '$2' but should not:"
    grep -F -- "$2" "$1" | head -5
  fi
}

# expect_equal ACTUAL EXPECTED WHAT
expect_equal() {
  if [ "$1" != "$2" ]; then
    fail "$3: '$1', expected '$2'"
  fi
}

check_py() {
  if ! "$python" "$check" "$@"; then
    fail "check_output.py $1 found problems"
  fi
}

photo_count() {
  wc -l <"$fixture/manifest.tsv" | tr -d ' '
}

# A folder with the generated photos.
make_photos() {
  mkdir -p "$1"
  cp "$fixture"/photos/* "$1"/
}

mtime_ns() {
  "$python" "$check" mtime "$1"
}

# ---- Cases ----------------------------------------------------------------

case_usage() {
  run 2 tag
  contains "$work/err" "missing PATH"
  run 2 tag --json --csv "$work"
  contains "$work/err" "--json and --csv cannot be combined"
  run 2 tag --threads 0 "$work"
  contains "$work/err" "--threads expects a number from 1 to"
  run 2 tag --lang fr "$work"
  contains "$work/err" "--lang expects ko or en, got 'fr'"
  run 2 tag --catalog "$work/c.sqlite" --no-catalog "$work"
  contains "$work/err" "cannot be combined"
  run 2 tag --frobnicate "$work"
  contains "$work/err" "unknown option '--frobnicate'"
  run 0 tag --help
  contains "$work/out" "exit status:"
  contains "$work/out" "3  the model or the catalogue cannot be used"
  contains "$work/out" "--threads N"

  run 2 search
  contains "$work/err" "missing QUERY"
  run 2 search --min-score 2 dog
  contains "$work/err" "--min-score expects a number from 0 to 1"
  run 0 search --help
  contains "$work/out" "dog OR cat"
  contains "$work/out" "동물 -고양이"

  run 2 watch
  contains "$work/err" "missing DIR"
  run 0 watch --help
  contains "$work/out" "SIGTERM"

  run 0 --help
  contains "$work/out" "  tag "
  contains "$work/out" "  search "
  contains "$work/out" "  watch "
}

case_info() {
  run 0 info "$model"
  contains "$work/out" "labels (80; tagged when logit >= threshold)"
  contains "$work/out" "dog / 개  [animal / 동물]  threshold 0"
  contains "$work/out" "hot dog / 핫도그  [food / 음식]"
  contains "$work/out" "sha256           $model_sha"
  contains "$work/out" "quantization   lsq-qat"
  contains "$work/out" "input            32 x 32 pixels"
}

case_default_model() {
  make_photos "$work/photos"

  PICOTAG_MODEL="$model" run 0 tag --no-catalog --json "$work/photos/beach.png"
  contains "$work/out" "\"sha256\": \"$model_sha\""

  # --model wins over the environment.
  PICOTAG_MODEL="$model" run 0 tag --no-catalog --json --model "$model_b" "$work/photos/beach.png"
  contains "$work/out" "\"sha256\": \"$model_b_sha\""

  PICOTAG_MODEL="$work/missing.ptm" run 3 tag --no-catalog "$work/photos"
  contains "$work/err" "$work/missing.ptm"
  lacks "$work/out" "beach.png"

  # A build tree: build/src/tools/picotag finds models/default.ptm.
  local tree="$work/tree"
  mkdir -p "$tree/build/src/tools" "$tree/models"
  cp "$picotag" "$tree/build/src/tools/picotag"
  cp "$model" "$tree/models/default.ptm"
  local copy="$tree/build/src/tools/picotag"
  timeout 60 "$copy" tag --no-catalog --json "$work/photos/beach.png" >"$work/out" 2>"$work/err"
  expect_equal "$?" 0 "exit status with models/default.ptm beside the build tree"
  contains "$work/out" "\"sha256\": \"$model_sha\""

  rm "$tree/models/default.ptm"

  # An installation under another prefix: PREFIX/bin/picotag finds
  # PREFIX/share/picotag/models/default.ptm.
  local prefix="$work/prefix"
  mkdir -p "$prefix/bin" "$prefix/share/picotag/models"
  cp "$picotag" "$prefix/bin/picotag"
  cp "$model_b" "$prefix/share/picotag/models/default.ptm"
  timeout 60 "$prefix/bin/picotag" tag --no-catalog --json "$work/photos/beach.png" >"$work/out" 2>"$work/err"
  expect_equal "$?" 0 "exit status with share/picotag/models/default.ptm beside bin/"
  contains "$work/out" "\"sha256\": \"$model_b_sha\""

  local installed
  installed=$("$copy" tag --help | grep -o '[^ ]*/default\.ptm)' | tr -d ')')
  if [ -e "$installed" ]; then
    echo "note: $installed exists, so the missing-default message is not checked"
  else
    timeout 60 "$copy" tag --no-catalog "$work/photos" >"$work/out" 2>"$work/err"
    expect_equal "$?" 3 "exit status without any model"
    contains "$work/err" "no model given and no default model found"
    contains "$work/err" "$tree/build/src/tools/../../../models/default.ptm"
    contains "$work/err" "$installed"
  fi
}

case_table() {
  local photos="$work/photos"
  make_photos "$photos"
  # Real photos when the shared samples are there; the case does not need them.
  local real=0
  if [ -d "$hard_inputs/debian_darknet" ]; then
    mkdir -p "$photos/real"
    cp "$hard_inputs"/debian_darknet/*.jpg "$photos/real/"
    for name in hopper.webp flower.jpg hopper_orientation_6.jpg; do
      if [ -f "$hard_inputs/pillow_Tests_images/$name" ]; then
        cp "$hard_inputs/pillow_Tests_images/$name" "$photos/real/"
      fi
    done
    real=$(find "$photos/real" -type f | wc -l)
  else
    echo "note: $hard_inputs is absent; generated photos only"
  fi
  # Skipped inside folders: other extensions and hidden names.
  echo "not a photo" >"$photos/notes.txt"
  cp "$photos/beach.png" "$photos/.hidden.png"
  cp "$photos/rose.png" "$photos/no_extension"
  local expected=$(($(photo_count) + real))

  run 0 tag --model "$model" --no-catalog "$photos"
  cp "$work/out" "$work/table"
  contains "$work/err" "Tagged $expected photos, 0 unchanged, 0 moved, 0 failed"
  expect_equal "$(head -n 1 "$work/table" | tr -s ' ')" "photo tags" "table header"
  expect_equal "$(($(wc -l <"$work/table") - 1))" "$expected" "table rows"
  lacks "$work/table" "notes.txt"
  lacks "$work/table" ".hidden.png"
  lacks "$work/table" "no_extension"

  run 0 tag --model "$model" --no-catalog --json "$photos"
  cp "$work/out" "$work/json"
  check_py table "$work/table" "$work/json"
  if [ "$real" -gt 0 ]; then
    contains "$work/json" "\"width\": 768, \"height\": 576"   # debian_darknet/dog.jpg
  fi

  # --all recognises photos by content; a named file is always tried.
  run 0 tag --model "$model" --no-catalog --all "$photos"
  contains "$work/out" "$photos/no_extension"
  lacks "$work/out" "notes.txt"
  contains "$work/err" "Tagged $((expected + 1)) photos"
  run 0 tag --model "$model" --no-catalog "$photos/no_extension"
  contains "$work/out" "$photos/no_extension"
  run 1 tag --model "$model" --no-catalog "$photos/notes.txt"
  contains "$work/err" "cannot read the photo: $photos/notes.txt: unsupported format"
}

case_json() {
  make_photos "$work/photos"
  run 0 tag --model "$model" --no-catalog --json "$work/photos"
  lacks "$work/err" "Tagged"
  expect_equal "$("$python" "$check" jsonl "$work/out" --manifest "$fixture/manifest.tsv" \
    --sha256 "$model_sha" --status tagged)" "$(photo_count)" "JSON photos"
  contains "$work/out" "\"model\": {\"name\": \"model\", \"sha256\": \"$model_sha\"}"

  run 0 tag --model "$model" --no-catalog --json --lang ko "$work/photos"
  expect_equal "$("$python" "$check" jsonl "$work/out" --lang ko)" "$(photo_count)" \
    "JSON photos in Korean"
}

case_csv() {
  local photos="$work/사진 폴더"
  mkdir -p "$photos"
  cp "$fixture/photos/beach.png" "$photos/여름, \"바다\" 1.png"
  cp "$fixture/photos/rose.png" "$photos/plain.png"

  run 0 tag --model "$model" --no-catalog --csv "$photos"
  cp "$work/out" "$work/csv"
  run 0 tag --model "$model" --no-catalog --json "$photos"
  check_py csv "$work/csv" "$work/out"
  # RFC 4180: the field is quoted and its quotes are doubled.
  contains "$work/csv" "\"$photos/여름, \"\"바다\"\" 1.png\",tagged,64,48,"
  contains "$work/csv" "$photos/plain.png,tagged,30,90,"

  run 0 tag --model "$model" --no-catalog --csv --lang ko "$photos"
  cp "$work/out" "$work/csv"
  run 0 tag --model "$model" --no-catalog --json --lang ko "$photos"
  check_py csv "$work/csv" "$work/out"
}

case_failures() {
  local photos="$work/photos"
  make_photos "$photos"
  cp "$fixture/corrupt.jpg" "$photos/0corrupt.jpg"
  mkdir -p "$photos/sub"
  cp "$fixture/photos/snow.jpg" "$photos/sub/deep.jpg"
  ln -s .. "$photos/sub/loop"
  ln -s "$photos" "$photos/sub/again"
  local expected=$(($(photo_count) + 1))

  run 1 tag --model "$model" --no-catalog "$photos" "$work/missing-folder"
  contains "$work/err" "picotag tag: cannot read the photo: $photos/0corrupt.jpg: truncated file"
  contains "$work/err" "cannot find the file or folder: $work/missing-folder: No such file or directory"
  contains "$work/err" "Tagged $expected photos, 0 unchanged, 0 moved, 1 failed"
  expect_equal "$(grep -c "deep.jpg" "$work/out")" 1 "rows for a photo reached through link loops"
  expect_equal "$(grep -c "beach.png" "$work/out")" 1 "rows for beach.png"
  # The scan went on after the corrupt file, which sorts first.
  contains "$work/out" "$photos/snow.jpg"
  lacks "$work/out" "0corrupt.jpg"
  # The header sits above the first row even when the first photo failed.
  expect_equal "$(head -n 1 "$work/out" | tr -s ' ')" "photo tags" "table header beside a corrupt photo"

  # Every photo fails: the failures and the summary, no empty table.
  mkdir -p "$work/only-broken"
  cp "$fixture/corrupt.jpg" "$work/only-broken/a.jpg"
  run 1 tag --model "$model" --no-catalog "$work/only-broken"
  contains "$work/err" "Tagged 0 photos, 0 unchanged, 0 moved, 1 failed"
  expect_equal "$(wc -c <"$work/out")" 0 "table output when every photo fails"
  run 1 tag --model "$model" --no-catalog --csv "$work/only-broken"
  expect_equal "$(cat "$work/out")" "path,status,width,height,tags,scores,model" "CSV header when every photo fails"

  run 1 tag --model "$model" --no-catalog --json "$photos"
  expect_equal "$("$python" "$check" jsonl "$work/out")" "$expected" "JSON photos beside a corrupt one"

  check_unreadable_folder
}

# A folder that cannot be read is reported and skipped. Because root can
# read every folder, a test run as root scans as user 65534 (nobody)
# through setpriv.
check_unreadable_folder() {
  local tree="$work/open"
  mkdir -p "$tree/locked"
  cp "$fixture/photos/night.png" "$tree/visible.png"
  cp "$fixture/photos/ocean.jpg" "$tree/locked/hidden.jpg"
  chmod 000 "$tree/locked"

  local runner=()
  if [ "$(id -u)" -eq 0 ]; then
    if ! command -v setpriv >/dev/null 2>&1; then
      echo "note: running as root without setpriv; the unreadable-folder check is skipped"
      return
    fi
    chmod 755 "$work" "$tree"
    chmod 644 "$tree/visible.png"
    runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  fi
  timeout 60 "${runner[@]}" "$picotag" tag --model "$model" --no-catalog "$tree" \
    >"$work/out" 2>"$work/err"
  expect_equal "$?" 1 "exit status with an unreadable folder"
  contains "$work/err" "cannot read the folder, skipped: $tree/locked: Permission denied"
  contains "$work/out" "$tree/visible.png"
  contains "$work/err" "Tagged 1 photo, 0 unchanged, 0 moved, 0 failed"
}

# The progress bar is drawn only on a terminal (script(1) provides one) and
# is erased before each error line.
case_progress() {
  if ! command -v script >/dev/null 2>&1; then
    echo "SKIP: script (util-linux) not found; it provides the terminal"
    exit 77
  fi
  local photos="$work/photos"
  make_photos "$photos"
  cp "$fixture/corrupt.jpg" "$photos/zz-corrupt.jpg"
  local total=$(($(photo_count) + 1))

  script -qec "'$picotag' tag --model '$model' --no-catalog '$photos' >'$work/table'" \
    "$work/terminal" >/dev/null
  contains "$work/terminal" "] $total/$total photos"
  contains "$work/terminal" $'\r\033[Kpicotag tag: cannot read the photo: '"$photos/zz-corrupt.jpg"
  contains "$work/terminal" $'\r\033[KTagged '"$((total - 1))"' photos'
  lacks "$work/table" "photos"$'\r'

  run 1 tag --model "$model" --no-catalog "$photos"
  lacks "$work/err" $'\r'
  lacks "$work/err" "] $total/$total"
}

case_threads() {
  local photos="$work/photos"
  make_photos "$photos"
  cp "$fixture/corrupt.jpg" "$photos/middle.jpg"
  mkdir -p "$photos/more"
  for name in beach.png forest.jpg snow.jpg rose.png; do
    cp "$photos/$name" "$photos/more/copy-$name"
  done

  for format in --json --csv ""; do
    timeout 60 "$picotag" tag --model "$model" --no-catalog $format --threads 1 "$photos" \
      >"$work/one" 2>"$work/one.err"
    for threads in 2 3 5; do
      timeout 60 "$picotag" tag --model "$model" --no-catalog $format --threads "$threads" "$photos" \
        >"$work/many" 2>"$work/many.err"
      if ! cmp -s "$work/one" "$work/many"; then
        fail "output with --threads $threads $format differs from --threads 1"
        diff "$work/one" "$work/many" | head -10
      fi
      if ! cmp -s <(grep -v "^Tagged" "$work/one.err") <(grep -v "^Tagged" "$work/many.err"); then
        fail "error lines with --threads $threads $format differ from --threads 1"
      fi
    done
  done
  contains "$work/one.err" "middle.jpg"

  # With a catalogue, from scratch each time.
  run 1 tag --model "$model" --catalog "$work/one.sqlite" --json --threads 1 "$photos"
  cp "$work/out" "$work/one"
  run 1 tag --model "$model" --catalog "$work/two.sqlite" --json --threads 4 "$photos"
  if ! cmp -s "$work/one" "$work/out"; then
    fail "catalogued output with --threads 4 differs from --threads 1"
  fi
}

case_catalogue() {
  local photos="$work/photos"
  local catalogue="$work/catalog.sqlite"
  make_photos "$photos"
  local count
  count=$(photo_count)

  run 0 tag --model "$model" --catalog "$catalogue" --json "$photos"
  cp "$work/out" "$work/first"
  check_py jsonl "$work/first" --status tagged >/dev/null
  "$python" "$check" catalogue "$catalogue" >"$work/records.before"
  expect_equal "$(wc -l <"$work/records.before")" "$count" "catalogued photos"
  contains "$work/records.before" "$photos/beach.png"

  # A rescan reads nothing: every photo is unchanged and shows its stored tags.
  run 0 tag --model "$model" --catalog "$catalogue" "$photos"
  contains "$work/err" "Tagged 0 photos, $count unchanged, 0 moved, 0 failed"
  run 0 tag --model "$model" --catalog "$catalogue" --json "$photos"
  check_py jsonl "$work/out" --status unchanged >/dev/null
  if ! cmp -s <(sed 's/"status": "[a-z]*"//' "$work/first") <(sed 's/"status": "[a-z]*"//' "$work/out"); then
    fail "stored tags differ from the tags of the first run"
    diff "$work/first" "$work/out" | head -6
  fi
  "$python" "$check" catalogue "$catalogue" >"$work/records.after"
  if ! cmp -s "$work/records.before" "$work/records.after"; then
    fail "a rescan changed the catalogue records"
  fi

  # A touched photo (new mtime, same bytes) is unchanged too.
  touch -d "2001-02-03 04:05:06" "$photos/night.png"
  run 0 tag --model "$model" --catalog "$catalogue" "$photos"
  contains "$work/err" "Tagged 0 photos, $count unchanged, 0 moved, 0 failed"

  # A moved photo keeps its record: same id, same tagged_at, no inference.
  mkdir -p "$photos/album"
  mv "$photos/beach.png" "$photos/album/beach-renamed.png"
  run 0 tag --model "$model" --catalog "$catalogue" --json "$photos"
  contains "$work/out" "{\"path\": \"$photos/album/beach-renamed.png\", \"status\": \"moved\""
  expect_equal "$(grep -c '"status": "unchanged"' "$work/out")" "$((count - 1))" "unchanged photos after a move"
  "$python" "$check" catalogue "$catalogue" >"$work/records.moved"
  local before after
  before=$(grep -F "$photos/beach.png" "$work/records.before" | cut -f2-)
  after=$(grep -F "$photos/album/beach-renamed.png" "$work/records.moved" | cut -f2-)
  expect_equal "$after" "$before" "record (id, tagged_at, model) of the moved photo"
  lacks "$work/records.moved" "$photos/beach.png"
  run 0 tag --model "$model" --catalog "$catalogue" "$photos"
  contains "$work/err" "Tagged 0 photos, $count unchanged, 0 moved, 0 failed"

  # Another model file tags everything again and owns the records.
  run 0 tag --model "$model_b" --catalog "$catalogue" --json "$photos"
  check_py jsonl "$work/out" --status tagged --sha256 "$model_b_sha" >/dev/null
  "$python" "$check" catalogue "$catalogue" >"$work/records.model_b"
  expect_equal "$(cut -f4 "$work/records.model_b" | sort -u)" "$model_b_sha" "model of every record"

  # Without --catalog the XDG default is used and created.
  run 0 tag --model "$model" "$photos/rose.png"
  if [ ! -f "$XDG_DATA_HOME/picotag/catalog.sqlite" ]; then
    fail "no default catalogue at $XDG_DATA_HOME/picotag/catalog.sqlite"
  fi
  run 0 tag --model "$model" "$photos/rose.png"
  contains "$work/err" "Tagged 0 photos, 1 unchanged"

  # A file that is not a catalogue stops the scan before any photo.
  echo "not a database" >"$work/bad.sqlite"
  run 3 tag --model "$model" --catalog "$work/bad.sqlite" "$photos"
  contains "$work/err" "$work/bad.sqlite"
  lacks "$work/out" "rose.png"
}

case_xmp() {
  if ! command -v exiftool >/dev/null 2>&1; then
    echo "SKIP: exiftool not found (Debian package libimage-exiftool-perl)"
    exit 77
  fi
  local photos="$work/photos"
  mkdir -p "$photos"
  cp "$fixture/photos/forest.jpg" "$fixture/photos/beach.png" "$photos/"
  cp "$photos/forest.jpg" "$work/forest.original"
  local mtime_before
  mtime_before=$(mtime_ns "$photos/forest.jpg")

  run 0 tag --model "$model" --catalog "$work/c.sqlite" --xmp --json "$photos"
  cp "$work/out" "$work/json"
  for name in forest.jpg beach.png; do
    if [ ! -f "$photos/$name.xmp" ]; then
      fail "no sidecar $photos/$name.xmp"
    fi
  done
  exiftool -j -XMP-dc:Subject -XMP-lr:HierarchicalSubject "$photos/forest.jpg.xmp" >"$work/exif"
  "$python" - "$work/json" "$work/exif" <<'EOF' || fail "sidecar keywords differ from the tags"
import json, sys
photo = next(json.loads(line) for line in open(sys.argv[1]) if "forest.jpg" in line)
sidecar = json.load(open(sys.argv[2]))[0]
names = [tag["name_en"] for tag in photo["tags"]]
hierarchy = ["picotag|" + (tag["name_en"] if tag["group"] == tag["name_en"]
                           else tag["group"] + "|" + tag["name_en"]) for tag in photo["tags"]]
subject = sidecar.get("Subject", [])
subject = subject if isinstance(subject, list) else [subject]
ok = sorted(map(str, subject)) == sorted(names)
ok = ok and sorted(map(str, sidecar.get("HierarchicalSubject", []))) == sorted(hierarchy)
if not ok:
    print("sidecar", sidecar, "\nexpected", names, hierarchy)
sys.exit(0 if ok else 1)
EOF

  # A keyword the person added stays; picotag's keywords change language.
  exiftool -q -overwrite_original "-XMP-dc:Subject+=holiday 2024" "$photos/forest.jpg.xmp"
  run 0 tag --model "$model" --catalog "$work/c.sqlite" --xmp --lang ko "$photos"
  exiftool -j -XMP-dc:Subject "$photos/forest.jpg.xmp" >"$work/exif"
  contains "$work/exif" "holiday 2024"
  local first_tag korean english
  first_tag=$("$python" -c 'import json, sys
for line in open(sys.argv[1]):
    photo = json.loads(line)
    if photo["path"].endswith("forest.jpg"):
        print(photo["tags"][0]["name_ko"] + "\t" + photo["tags"][0]["name_en"])' "$work/json")
  korean=${first_tag%%$'\t'*}
  english=${first_tag#*$'\t'}
  if [ -z "$korean" ] || [ -z "$english" ]; then
    fail "forest.jpg has no tags to look for in its sidecar"
  fi
  contains "$work/exif" "\"$korean\""
  lacks "$work/exif" "\"$english\""

  # The photo itself is never written.
  if ! cmp -s "$photos/forest.jpg" "$work/forest.original"; then
    fail "forest.jpg changed while its tags were written"
  fi
  expect_equal "$(mtime_ns "$photos/forest.jpg")" "$mtime_before" "forest.jpg mtime (ns)"
}

case_search() {
  local photos="$work/photos"
  local catalogue="$work/catalog.sqlite"
  make_photos "$photos"
  run 0 tag --model "$model" --catalog "$catalogue" --json "$photos"
  cp "$work/out" "$work/json"
  check_py search "$picotag" "$model" "$catalogue" "$work/json"

  run 3 search --model "$model" --catalog "$work/none.sqlite" dog
  contains "$work/err" "no catalogue at $work/none.sqlite"
  run 3 search --model "$work/none.ptm" --catalog "$catalogue" dog
  contains "$work/err" "$work/none.ptm"
}

case_korean() {
  local photos="$work/photos"
  make_photos "$photos"
  cp "$fixture/corrupt.jpg" "$photos/corrupt.jpg"

  LC_ALL= LANG=ko_KR.UTF-8 run 1 tag --model "$model" --no-catalog "$photos"
  expect_equal "$(head -n 1 "$work/out" | tr -s ' ')" "사진 태그" "Korean table header"
  contains "$work/err" "사진을 읽지 못했습니다: $photos/corrupt.jpg: truncated file"
  contains "$work/err" "사진 $(photo_count)장을 태그했습니다. 변경 없음 0장, 이동 0장, 실패 1장"
  cp "$work/out" "$work/table"
  LC_ALL= LANG=ko_KR.UTF-8 run 1 tag --model "$model" --no-catalog --json "$photos"
  check_py table "$work/table" "$work/out"
  check_py jsonl "$work/out" --lang ko >/dev/null

  # LC_ALL comes before LANG, and --lang before both.
  LC_ALL=en_US.UTF-8 LANG=ko_KR.UTF-8 run 1 tag --model "$model" --no-catalog "$photos"
  contains "$work/err" "Tagged $(photo_count) photos"
  LC_ALL= LC_MESSAGES=ko_KR.UTF-8 LANG=en_US.UTF-8 run 1 tag --model "$model" --no-catalog "$photos"
  contains "$work/err" "장을 태그했습니다"
  LC_ALL= LANG=ko_KR.UTF-8 run 1 tag --model "$model" --no-catalog --lang en "$photos"
  contains "$work/err" "cannot read the photo: $photos/corrupt.jpg"
}

# wait_for FILE TEXT: waits up to 15 s for FILE to contain TEXT.
wait_for() {
  local tries=0
  while ! grep -qF -- "$2" "$1" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -gt 150 ]; then
      fail "timed out waiting for '$2' in $(basename "$1")"
      echo "--- $(basename "$1")"; head -c 2000 "$1"; echo
      return 1
    fi
    sleep 0.1
  done
}

# start_watch READY_TEXT OPTIONS...: starts watching $work/watched and waits
# until the session prints READY_TEXT on stderr.
start_watch() {
  local ready=$1
  shift
  "$picotag" watch --model "$model" --catalog "$work/catalog.sqlite" --json "$@" "$work/watched" \
    >"$work/watch.out" 2>"$work/watch.err" &
  background_pid=$!
  wait_for "$work/watch.err" "$ready"
}

stop_watch() {
  kill "-$1" "$background_pid"
  local tries=0
  while kill -0 "$background_pid" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then
      fail "watch did not stop within 10 s of SIG$1"
      return
    fi
    sleep 0.1
  done
  wait "$background_pid"
  expect_equal "$?" 0 "watch exit status after SIG$1"
  background_pid=
}

case_watch() {
  local watched="$work/watched"
  mkdir -p "$watched"
  watched=$(cd "$watched" && pwd -P)
  cp "$fixture/photos/beach.png" "$watched/already.png"

  start_watch "Watching 1 folder; press Ctrl+C to stop."
  wait_for "$work/watch.out" "{\"path\": \"$watched/already.png\", \"status\": \"tagged\""

  cp "$fixture/photos/snow.jpg" "$watched/snow.jpg"
  wait_for "$work/watch.out" "{\"path\": \"$watched/snow.jpg\", \"status\": \"tagged\""

  # Written in two parts with a pause: tagged once, when the writer closes it.
  local size
  size=$(stat -c %s "$fixture/photos/ocean.jpg")
  {
    head -c $((size / 2)) "$fixture/photos/ocean.jpg"
    sleep 0.5
    tail -c +$((size / 2 + 1)) "$fixture/photos/ocean.jpg"
  } >"$watched/ocean.jpg"
  wait_for "$work/watch.out" "{\"path\": \"$watched/ocean.jpg\", \"status\": \"tagged\""

  mkdir "$watched/new album"
  cp "$fixture/photos/rose.png" "$watched/new album/rose.png"
  wait_for "$work/watch.out" "{\"path\": \"$watched/new album/rose.png\", \"status\": \"tagged\""

  mv "$watched/snow.jpg" "$watched/snow-renamed.jpg"
  wait_for "$work/watch.out" "{\"path\": \"$watched/snow-renamed.jpg\", \"status\": \"moved\""

  rm "$watched/ocean.jpg"
  wait_for "$work/watch.out" "{\"path\": \"$watched/ocean.jpg\", \"status\": \"removed\""

  # A renamed folder keeps its photos' records; a photo moved out of the
  # watched folders leaves the catalogue.
  mv "$watched/new album" "$watched/album 2024"
  wait_for "$work/watch.out" "{\"path\": \"$watched/album 2024/rose.png\", \"status\": \"moved\""
  mkdir "$work/outside"
  mv "$watched/snow-renamed.jpg" "$work/outside/"
  wait_for "$work/watch.out" "{\"path\": \"$watched/snow-renamed.jpg\", \"status\": \"removed\""

  stop_watch TERM
  expect_equal "$(grep -c '"status": "tagged"' "$work/watch.out")" 4 "photos tagged by watch"
  expect_equal "$(grep -c "$watched/ocean.jpg\", \"status\": \"tagged\"" "$work/watch.out")" 1 \
    "times the photo written in two parts was tagged"
  lacks "$work/watch.err" "ocean.jpg"
  lacks "$work/watch.err" "cannot"
  grep '"status": "tagged"' "$work/watch.out" >"$work/tagged.jsonl"
  check_py jsonl "$work/tagged.jsonl" --manifest "$fixture/manifest.tsv" --sha256 "$model_sha" \
    --status tagged >/dev/null

  "$python" "$check" catalogue "$work/catalog.sqlite" | cut -f1 >"$work/records"
  printf '%s\n' "$watched/album 2024/rose.png" "$watched/already.png" >"$work/expected"
  if ! cmp -s "$work/records" "$work/expected"; then
    fail "catalogue after watching differs"
    diff "$work/expected" "$work/records"
  fi

  # A second session finds nothing new, prints nothing, and stops on SIGINT.
  start_watch "폴더 2개를 지켜보고 있습니다" --lang ko
  stop_watch INT
  expect_equal "$(wc -c <"$work/watch.out" | tr -d ' ')" 0 "bytes printed by a session with nothing new"
}

# The capture time of real photos against exiftool's reading of the same
# EXIF tags, kept through the catalogue, and the displayed size of AVIF
# photos with rotation boxes.
case_capture_time() {
  if [ ! -d "$hard_inputs/pillow_Tests_images" ] || [ ! -d "$hard_inputs/debian_darknet" ]; then
    echo "SKIP: $hard_inputs is absent; the case needs real photos"
    exit 77
  fi
  if ! command -v exiftool >/dev/null 2>&1; then
    echo "SKIP: exiftool not found; it gives the expected capture times"
    exit 77
  fi
  local photos="$work/photos"
  mkdir -p "$photos"
  cp "$hard_inputs"/debian_darknet/*.jpg "$photos/"
  cp "$hard_inputs"/pillow_Tests_images/*.jpg "$hard_inputs"/pillow_Tests_images/*.webp "$photos/"
  cp "$hard_inputs"/pillow_Tests_images/avif/*.avif "$photos/"
  cp "$hard_inputs"/exif-samples/heic/*.HEIC "$photos/" 2>/dev/null
  # libexif 0.6.24 stops reading IFD0 at an entry whose data lies past the
  # end of the EXIF block, so it never reaches this file's EXIF sub-IFD;
  # exiftool skips the entry and reads on.
  rm -f "$photos/exif_gps.jpg"

  # Some of Pillow's files are broken on purpose, so the status is 1.
  run 1 tag --model "$model" --catalog "$work/catalog.sqlite" --json "$photos"
  cp "$work/out" "$work/first.json"
  exiftool -j -q -EXIF:DateTimeOriginal -EXIF:CreateDate -EXIF:ModifyDate \
    -EXIF:OffsetTimeOriginal -EXIF:OffsetTimeDigitized -EXIF:OffsetTime "$photos" \
    >"$work/exiftool.json" 2>/dev/null
  check_py captured "$work/first.json" "$work/exiftool.json" --catalogue "$work/catalog.sqlite" \
    --min-dated 10
  contains "$work/first.json" "\"captured\": \"2014-09-19T16:08:30\""   # dog.jpg

  # rot1mir0.avif stores the 640 x 427 photo as 427 x 640 with an irot box.
  for name in rot0mir0 rot1mir0 rot1mir1 rot2mir1 rot3mir0; do
    contains "$work/first.json" "{\"path\": \"$photos/$name.avif\", \"status\": \"tagged\", \"width\": 640, \"height\": 427,"
  done

  # A rescan prints the stored capture times and sizes.
  run 1 tag --model "$model" --catalog "$work/catalog.sqlite" --json "$photos"
  check_py jsonl "$work/out" --status unchanged >/dev/null
  if ! cmp -s <(sed 's/"status": "[a-z]*"//' "$work/first.json") <(sed 's/"status": "[a-z]*"//' "$work/out"); then
    fail "the rescan's output differs from the first run's"
    diff "$work/first.json" "$work/out" | head -6
  fi
}

case "$case_name" in
  usage | info | default_model | table | json | csv | failures | progress | threads | \
    catalogue | xmp | search | korean | watch | capture_time)
    "case_$case_name"
    ;;
  *)
    echo "unknown case '$case_name'"
    exit 2
    ;;
esac

if [ "$failures" -gt 0 ]; then
  echo "$case_name: $failures checks failed"
  exit 1
fi
echo "$case_name: all checks passed"
