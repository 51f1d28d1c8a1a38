#!/usr/bin/env bash
# Trains the default model: FP32 distillation from the teacher's boxes,
# LSQ 8-bit QAT, post-training calibration for comparison, per-class
# thresholds, export, and evaluation through the C engine (picotag eval).
#
# Usage: train/recipes/default_model.sh OUT_DIR
# Environment (defaults in brackets):
#   DATA [../shared/data], WIDTH [16], SIZE [96], EPOCHS [40], QAT_EPOCHS [3],
#   THREADS [2], LOSS [asl] (or bce), QAT_LR [0.002]
#   AVERAGE_DECAY [0.999]   save a moving average of the FP32 weights (empty:
#                           the final weights)
#   SECOND_TEACHER [none]   a teacher_features folder: also regress the
#                           MobileNetV2 features of its views
#   FEATURE_WEIGHT [1]      weight of that feature loss
#   SECOND_SHARE [1]        fraction of samples from the second teacher's views
#   MOSAIC [0], JITTER [0]  train_fp32 --mosaic / --colour-jitter
#   SEED [0]                random seed of the training stages
#   CROP_MIN [0.5]          smallest random crop, as a fraction of the photo
#                           area (train_fp32 and train_qat --crop-scale-min)
#   VIEW_FLIP [0], VIEW_GRID [2], VIEW_CROP [0.7]
#                           test-time views of the exported model (thresholds
#                           and export --view-flip / --view-grid /
#                           --view-crop); VIEW_GRID=0 for one view
#   EXTRA [none]            output folder of train/recipes/extra_photos.py:
#                           train and fine-tune on the shared photos plus its
#                           new ones (calibration and thresholds keep using
#                           the shared photos and their teacher scores)
#   JOIN [none]             output folders of earlier runs of this recipe,
#                           separated by spaces. Instead of training an FP32
#                           model, join their fp32.pt files (nothing else of
#                           theirs is used) into one wider network that
#                           outputs the mean of their logits
#                           (train/recipes/ensemble.py); the later stages
#                           then run on it. WIDTH is read from them
#   JOIN_EPOCHS [0]         with JOIN: first train the joined network as one
#                           (the weights between members free) for this many
#                           epochs from the joined weights: lr 0.02 cosine,
#                           100 warm-up steps, the rest as the FP32 stage
# Needs a built picotag (cmake -B build && cmake --build build).
# A stage whose output already exists in OUT_DIR is skipped, so an
# interrupted run continues where it stopped.
# Runs of docs/ACCURACY.md: 24 (the shipped model) is JOIN="R15 R17 R18"
# JOIN_EPOCHS=6 SEED=7 and 21 is JOIN="R15 R17 R18", both with THREADS=2,
# where R15, R17 and R18 are the output folders of runs 15, 17 and 18
# (SEED=7 only gives the joined training a random stream that none of the
# members used). The others used THREADS=1: 15 is the defaults; 7b is
# CROP_MIN=0.3 VIEW_GRID=0; 11, 12, 13 and 14 add to 7b's settings
# MOSAIC=0.5 JITTER=0.2, EXTRA=DIR EPOCHS=28, EXTRA=DIR EPOCHS=36 and
# SEED=1; 17, 18 and 19 are SEED=1, 2 and 3.
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
if [ "$#" -eq 1 ] && { [ "$1" = "-h" ] || [ "$1" = "--help" ]; }; then
  usage
  exit 0
fi
if [ "$#" -ne 1 ]; then
  usage >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
data=${DATA:-$repo/../shared/data}
width=${WIDTH:-16}
size=${SIZE:-96}
epochs=${EPOCHS:-40}
qat_epochs=${QAT_EPOCHS:-3}
threads=${THREADS:-2}
loss=${LOSS:-asl}
average=()
average_decay=${AVERAGE_DECAY-0.999}
[ -z "$average_decay" ] || average=(--average-decay "$average_decay")
second=()
[ -z "${SECOND_TEACHER:-}" ] || second=(--second-teacher "$SECOND_TEACHER" --feature-weight "${FEATURE_WEIGHT:-1}"
                                      --second-share "${SECOND_SHARE:-1}")
augment=(--mosaic "${MOSAIC:-0}" --colour-jitter "${JITTER:-0}")
train_boxes=$data/train/teacher_boxes.jsonl
train_images=$data/train/images
if [ -n "${EXTRA:-}" ]; then
  train_boxes=$EXTRA/teacher_boxes.jsonl
  train_images=$EXTRA/images
fi
mkdir -p "$out"

train() { PYTHONPATH="$repo/train" /usr/bin/python3 -m picotag_train "$@"; }
trained_on="12,175 unlabelled photos (VOC, ADE20K val, ImageNet samples, cats and dogs, sports, grocery, Caltech-101, ImageNet detection, Flickr8k); non-commercial research terms"
if [ -n "${EXTRA:-}" ]; then
  photos=$(wc -l < "$train_boxes")
  trained_on="$photos unlabelled photos (VOC, ADE20K val, ImageNet samples, cats and dogs, sports, grocery, Caltech-101, ImageNet detection, Flickr8k; more sports and grocery photos from train/recipes/extra_photos.py); non-commercial research terms"
fi
teacher="YOLOX-Nano (Megvii, Apache-2.0), labels of each random view derived from its boxes"
[ -z "${SECOND_TEACHER:-}" ] || teacher="$teacher; ImageNet MobileNetV2 (quantized, from google-coral/test_data, Apache-2.0) pooled features as a second teacher"
common=(--train "$train_boxes" --train-images "$train_images"
        --val "$data/coco-eval/labels.csv" --val-images "$data/coco-eval"
        --batch-size 64 --crop-scale-min "${CROP_MIN:-0.5}" --threads "$threads" --workers 1 --loss "$loss" --seed "${SEED:-0}")

members=0
if [ -n "${JOIN:-}" ]; then
  read -r -a joined <<< "$JOIN"
  members=${#joined[@]}
  width=$(PYTHONPATH="$repo/train" /usr/bin/python3 -c "import sys, torch; \
print(torch.load(sys.argv[1], map_location='cpu')['config']['width'])" "${joined[0]}/fp32.pt")
  join_epochs=${JOIN_EPOCHS:-0}
  joined_out=$out/fp32.pt
  [ "$join_epochs" = 0 ] || joined_out=$out/joined.pt
  [ -e "$joined_out" ] || [ -e "$out/fp32.pt" ] || time PYTHONPATH="$repo/train" /usr/bin/python3 \
    "$repo/train/recipes/ensemble.py" "${joined[@]/%//fp32.pt}" --out "$joined_out"
  [ -e "$out/fp32.pt" ] || time train train_fp32 "${common[@]}" --init "$joined_out" --input-size "$size" \
    --resize-mode stretch --epochs "$join_epochs" --lr 0.02 --warmup-steps 100 --weight-decay 5e-5 "${average[@]}" \
    --trained-on "$trained_on" --teacher "$teacher" --out "$out/fp32.pt"
fi
[ -e "$out/fp32.pt" ] || time train train_fp32 "${common[@]}" --depth 18 --width "$width" --input-size "$size" \
  --resize-mode stretch --epochs "$epochs" --lr 0.1 --warmup-steps 200 --weight-decay 5e-5 "${average[@]}" "${second[@]}" "${augment[@]}" \
  --trained-on "$trained_on" --teacher "$teacher" --out "$out/fp32.pt"

[ -e "$out/qat.pt" ] || time train train_qat "${common[@]}" --fp32 "$out/fp32.pt" --epochs "$qat_epochs" --lr "${QAT_LR:-0.002}" \
  --weight-decay 5e-5 --freeze-bn-after 0.5 --out "$out/qat.pt"

[ -e "$out/ptq.pt" ] || time train calibrate --fp32 "$out/fp32.pt" --images "$data/train/images" --batches 16 \
  --batch-size 32 --threads "$threads" --out "$out/ptq.pt"

views=()
[ "${VIEW_FLIP:-0}" = 0 ] || views+=(--view-flip)
[ "${VIEW_GRID:-2}" = 0 ] || views+=(--view-grid "${VIEW_GRID:-2}" --view-crop "${VIEW_CROP:-0.7}")

# The FP32 model on coco-eval with the same views and the C library's
# decoding, to compare with the int8 models below.
[ -e "$out/fp32-eval.txt" ] || train evaluate --checkpoint "$out/fp32.pt" "${views[@]}" --threads "$threads" \
  --labels-file "$data/coco-eval/labels.csv" --images "$data/coco-eval" > "$out/fp32-eval.txt"
cat "$out/fp32-eval.txt"

[ -e "$out/thresholds.csv" ] || train thresholds "${views[@]}" --checkpoint "$out/qat.pt" --labels-file "$data/train/teacher_yolox_nano.csv" \
  --images "$data/train/images" --threads "$threads" --out "$out/thresholds.csv"

description="picotag default model: ResNet-18 at base width $width, ${size}x$size input, distilled from YOLOX-Nano"
if [ "$members" -gt 0 ]; then
  description="picotag default model: $members ResNet-18s at base width $width joined into one of width $((members * width)) (the mean of their logits), ${size}x$size input, distilled from YOLOX-Nano"
  [ "${JOIN_EPOCHS:-0}" = 0 ] || description="picotag default model: $members ResNet-18s at base width $width joined into one of width $((members * width)), then trained as one for ${JOIN_EPOCHS} epochs, ${size}x$size input, distilled from YOLOX-Nano"
fi
for kind in qat ptq; do
  train export --checkpoint "$out/$kind.pt" --thresholds-file "$out/thresholds.csv" "${views[@]}" \
    --description "$description" --trained-on "$trained_on" --teacher "$teacher" --out "$out/$kind.ptm"
  "$repo/build/src/tools/picotag" eval --model "$out/$kind.ptm" --threads "$threads" --json \
    "$data/coco-eval/labels.csv" > "$out/$kind-eval.json"
  "$repo/build/src/tools/picotag" eval --model "$out/$kind.ptm" --threads "$threads" \
    "$data/coco-eval/labels.csv" | sed -n 1,9p
done

# The measured quality goes into the model file's provenance: export again
# with the numbers (the integers do not change, only META does).
for kind in qat ptq; do
  metrics=$(/usr/bin/python3 -c "import json, sys; j = json.load(open(sys.argv[1])); \
print(f'coco-eval (158 COCO val2017 photos), C engine: mAP {100 * j[\"mAP\"]:.1f}, CF1 {100 * j[\"CF1\"]:.1f}, OF1 {100 * j[\"OF1\"]:.1f}')" \
    "$out/$kind-eval.json")
  train export --checkpoint "$out/$kind.pt" --thresholds-file "$out/thresholds.csv" "${views[@]}" \
    --description "$description" --trained-on "$trained_on" --teacher "$teacher" \
    --metrics "$metrics" --out "$out/$kind.ptm"
done
