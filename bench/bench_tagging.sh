#!/usr/bin/env bash
# The tagging benchmark behind docs/BENCHMARKS.md: picotag_bench_tagging and
# the Pillow comparison on two photo sets, with a description of the machine.
#
#   bench/bench_tagging.sh [--repeat N] [--copies N] [--build DIR] [--phone-photos DIR]
#                          [--model FILE]
#
# --model picks the model file (default models/default.ptm).
#
# Photo sets:
#   1. the darknet sample photos in build/demo-photos (scripts/demo.sh puts
#      them there);
#   2. 12-megapixel phone-size JPEGs: those in --phone-photos DIR, or else
#      four stand-ins made here. The stand-ins are the first four 640 x 480
#      photos of ../shared/data/coco-eval/images, upscaled with Pillow
#      (Lanczos) to 4032 x 3024 and saved as JPEG quality 90 (4:2:0) in a
#      temporary folder that is removed at the end. Upscaled photos hold
#      less detail than real ones, so they may decode slightly faster.
#
# Each set is measured on --copies N copies of every photo (default 8), so
# that the end-to-end runs spend their time on photos rather than on
# starting the command and loading the model. --no-catalog keeps picotag
# from recognising the copies as one photo.
#
# Needs a built tree (cmake --build DIR --target picotag_command
# picotag_bench_tagging picotag) and /usr/bin/python3 with Pillow and NumPy.
set -euo pipefail
cd "$(dirname "$0")/.."

command_line="bench/bench_tagging.sh $*"
if [ -n "${PICOTAG_KERNELS:-}" ]; then
  command_line="PICOTAG_KERNELS=$PICOTAG_KERNELS $command_line"
fi
repeat=3
copies=8
build=build
phone_photos=
model=models/default.ptm
while [ $# -gt 0 ]; do
  case $1 in
    --repeat) repeat=$2; shift 2 ;;
    --copies) copies=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --phone-photos) phone_photos=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "usage: bench/bench_tagging.sh [--repeat N] [--copies N] [--build DIR] [--phone-photos DIR] [--model FILE]" >&2
       exit 2 ;;
  esac
done

bench="$build/bench/picotag_bench_tagging"
python=/usr/bin/python3
export PICOTAG_LIB="$build/libpicotag.so" PYTHONPATH=train
for file in "$bench" "$build/src/tools/picotag" "$PICOTAG_LIB"; do
  if [ ! -x "$file" ] && [ ! -f "$file" ]; then
    echo "bench_tagging.sh: $file not found; build it with cmake --build $build" >&2
    exit 1
  fi
done
if ! ls build/demo-photos/*.jpg >/dev/null 2>&1; then
  echo "bench_tagging.sh: build/demo-photos/*.jpg not found; run scripts/demo.sh once" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/picotag-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -z "$phone_photos" ]; then
  phone_photos="$work/phone-originals"
  mkdir -p "$phone_photos"
  "$python" - "$phone_photos" <<'EOF'
import pathlib
import sys

from PIL import Image

source = pathlib.Path("../shared/data/coco-eval/images")
target = pathlib.Path(sys.argv[1])
written = 0
for path in sorted(source.glob("*.jpg")):
    with Image.open(path) as image:
        if image.size != (640, 480) or image.mode != "RGB":
            continue
        image.resize((4032, 3024), Image.LANCZOS).save(
            target / f"upscaled-{path.name}", quality=90, subsampling="4:2:0")
    written += 1
    if written == 4:
        break
if written < 4:
    sys.exit(f"bench_tagging.sh: found {written} 640 x 480 photos in {source}, need 4")
EOF
  phone_note="stand-ins: coco-eval photos upscaled to 4032 x 3024, JPEG quality 90"
else
  phone_note="from $phone_photos"
fi

echo "command     $command_line"
echo "date        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu         $(lscpu | sed -n 's/^Model name: *//p') (family $(lscpu | sed -n 's/^CPU family: *//p')," \
  "model $(lscpu | sed -n 's/^Model: *//p')), $(nproc) cores online," \
  "hypervisor $(lscpu | sed -n 's/^Hypervisor vendor: *//p' | grep . || echo none)"
echo "memory      $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
echo "kernel      $(uname -r)"
compiler=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
echo "compiler    $("$compiler" --version | head -n 1)," \
  "build type $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")"
echo "libraries   $(dpkg-query -W -f '${Package} ${Version}  ' libjpeg62-turbo python3-pil 2>/dev/null)"
echo "load        $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 minute averages before the run)"
echo "busiest     $(ps -eo pcpu=,comm= --sort=-pcpu | head -n 3 | awk '{printf "%s %s%% CPU; ", $2, $1}')"
echo

# copy_set NAME PHOTO...: copies each photo $copies times into $work/NAME.
copy_set() {
  local name=$1
  shift
  mkdir -p "$work/$name"
  for photo in "$@"; do
    for copy in $(seq 1 "$copies"); do
      cp "$photo" "$work/$name/$copy-$(basename "$photo")"
    done
  done
}

for set in demo phone; do
  if [ "$set" = demo ]; then
    originals=(build/demo-photos/*.jpg)
    echo "=== darknet sample photos (build/demo-photos): ${#originals[@]} photos, $copies copies of each"
  else
    originals=("$phone_photos"/*.jpg)
    echo "=== 12-megapixel photos ($phone_note): ${#originals[@]} photos, $copies copies of each"
  fi
  copy_set "$set" "${originals[@]}"
  photos=("$work/$set"/*.jpg)
  "$bench" --model "$model" --repeat "$repeat" --threads 1,2 "${photos[@]}"
  echo
  "$python" bench/peer_pillow.py --model "$model" --repeat "$repeat" "${photos[@]}"
  echo
done
echo "load        $(cut -d' ' -f1-3 /proc/loadavg) (after the run)"
