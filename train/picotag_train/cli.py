"""Command line: one command per training stage.

    python3 -m picotag_train train_fp32 ...   train or fine-tune the FP32 ResNet
    python3 -m picotag_train train_qat ...    LSQ quantization-aware training
    python3 -m picotag_train calibrate ...    post-training calibration (PTQ)
    python3 -m picotag_train export ...       QAT or PTQ checkpoint -> .ptm
    python3 -m picotag_train convert ...      torchvision checkpoint -> calibrated .ptm
    python3 -m picotag_train evaluate ...     mAP of a checkpoint or a .ptm on labelled photos
    python3 -m picotag_train teacher_features ...  an ImageNet teacher's features and logits per view
"""

import argparse
import csv
import itertools
import logging
import os
import sys
import time

import numpy as np
import torch
from torch.utils.data import DataLoader

from . import coco_labels, intref
from .calibrate import ACTIVATION_METHODS, WEIGHT_METHODS, calibrate
from .data import (
    ImageFolderDataset,
    MultiLabelDataset,
    eval_dataset,
    eval_transform,
    random_batches,
    read_labels,
    train_transform,
    worker_count,
)
from .distill import BoxViewDataset, FeatureDistillation, feature_distillation_loss, load_teacher_boxes
from .export import default_preprocess, export_model, probability_to_logit
from .losses import make_loss
from .modelfile import (
    MAX_VIEW_GRID,
    MAX_VIEW_CROP_PERMILLE,
    MIN_VIEW_CROP_PERMILLE,
    ModelFormatError,
    read_model,
    write_model,
)
from .preprocess import load_rgb8_pil, mean_logits, preprocess_views_rgb8, view_count
from .qat import QResNet
from .resnet import IMAGENET_MEAN, IMAGENET_STD, ResNet
from .thresholds import TEACHER_CUT, f1_optimal_thresholds
from .torchvision_import import CheckpointError, load_torchvision_resnet
from .training import (
    CHECKPOINT_FORMAT,
    format_metrics,
    load_checkpoint,
    make_optimizer,
    predict,
    save_checkpoint,
    summarize,
    WeightAverage,
    train,
)

log = logging.getLogger("picotag_train")


# ---- Shared options -------------------------------------------------------


def add_data_options(parser, required=True):
    parser.add_argument("--train", required=required,
                        help="training labels: CSV (file + class columns), COCO instances JSON, or a teacher's "
                             "detections (.jsonl, one {file, dets} per photo) from which each random view's "
                             "labels are derived")
    parser.add_argument("--train-images", required=required, help="folder that the training file names are relative to")
    parser.add_argument("--val", help="validation labels (CSV or COCO JSON)")
    parser.add_argument("--val-images", help="folder that the validation file names are relative to")
    parser.add_argument("--batch-size", type=int, default=32, help="images per batch")
    parser.add_argument("--workers", type=int, default=2, help="data loader worker processes")
    parser.add_argument("--crop-scale-min", type=float, default=0.25, help="smallest random crop, as a fraction of the photo area")


def add_training_options(parser, lr, epochs):
    parser.add_argument("--epochs", type=int, default=epochs, help="passes over the training data")
    parser.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    parser.add_argument("--optimizer", choices=("sgd", "adamw"), default="sgd")
    parser.add_argument("--lr", type=float, default=lr, help="peak learning rate of the cosine schedule")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (Nesterov)")
    parser.add_argument("--warmup-steps", type=int, default=0)
    parser.add_argument("--average-decay", type=float,
                        help="keep an exponential moving average of the weights with this decay (e.g. 0.999) "
                             "and save the average instead of the final weights")
    parser.add_argument("--loss", choices=("bce", "asl"), default="bce")
    parser.add_argument("--asl-gamma-neg", type=float, default=4.0)
    parser.add_argument("--asl-gamma-pos", type=float, default=0.0)
    parser.add_argument("--asl-clip", type=float, default=0.05)
    parser.add_argument("--trained-on", help="data sets and their terms, for the model file's provenance")
    parser.add_argument("--teacher", help="distillation teacher whose scores are the soft labels, if any")


def add_common_options(parser):
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")


def add_meta_options(parser):
    parser.add_argument("--threshold", type=float, default=0.5, help="tag probability threshold for every class")
    parser.add_argument("--thresholds-file", help="CSV with columns class,probability: per-class thresholds")
    parser.add_argument("--labels", help="label names: CSV with name_en,name_ko,group_en,group_ko, one row per class")
    parser.add_argument("--trained-on", help="META trained_on (default: from the checkpoint)")
    parser.add_argument("--teacher", help="META teacher (default: from the checkpoint)")
    parser.add_argument("--metrics", help="META metrics, e.g. 'coco-eval mAP 41.2 (C engine)'")
    parser.add_argument("--description", help="META description")
    parser.add_argument("--created", help="META created, ISO 8601 date (default: today)")
    add_view_options(parser)


def add_view_options(parser):
    parser.add_argument("--view-flip", action="store_true",
                        help="test-time views: also run the mirror image of each view (docs/PREPROCESSING.md)")
    parser.add_argument("--view-grid", type=int, default=0,
                        help="test-time views: a grid of N x N crops besides the whole photo (0 to 4)")
    parser.add_argument("--view-crop", type=float, default=0.0,
                        help="side of each grid crop as a fraction of the whole view's (0.1 to 0.999)")


def view_fields(args):
    """Return the PREPROCESS view fields that --view-flip, --view-grid and --view-crop request."""
    if not 0 <= args.view_grid <= MAX_VIEW_GRID:
        raise SystemExit(f"error: --view-grid must be 0 to {MAX_VIEW_GRID}, got {args.view_grid}")
    if not args.view_grid and args.view_crop:
        raise SystemExit("error: --view-crop needs --view-grid")
    low, high = MIN_VIEW_CROP_PERMILLE / 1000, MAX_VIEW_CROP_PERMILLE / 1000
    if args.view_grid and not low <= args.view_crop <= high:
        received = f"got {args.view_crop}" if args.view_crop else "none was given"
        raise SystemExit(f"error: --view-grid needs --view-crop from {low} to {high}, {received}")
    permille = int(round(args.view_crop * 1000)) if args.view_grid else 0
    return {"view_flip": int(args.view_flip), "view_grid": args.view_grid, "view_crop_permille": permille}


def make_training_set(args, preprocess, class_names=None):
    """Return (dataset, class names) for --train: a label file or a teacher's boxes."""
    share = getattr(args, "second_share", 1.0)
    if not 0.0 < share <= 1.0:
        raise SystemExit(f"error: --second-share must lie in (0, 1], got {share}")
    if share != 1.0 and not getattr(args, "second_teacher", None):
        raise SystemExit("error: --second-share needs --second-teacher")
    mosaic, jitter = getattr(args, "mosaic", 0.0), getattr(args, "colour_jitter", 0.0)
    if not 0.0 <= mosaic <= 1.0:
        raise SystemExit(f"error: --mosaic must lie in [0, 1], got {mosaic}")
    if not 0.0 <= jitter < 1.0:
        raise SystemExit(f"error: --colour-jitter must lie in [0, 1), got {jitter}")
    if (mosaic or jitter) and not str(args.train).endswith(".jsonl"):
        raise SystemExit("error: --mosaic and --colour-jitter need --train with a teacher's boxes (.jsonl)")
    if mosaic and getattr(args, "second_teacher", None):
        raise SystemExit("error: --mosaic cannot be combined with --second-teacher")
    if str(args.train).endswith(".jsonl"):
        names = list(coco_labels.COCO80_NAMES)
        if class_names is not None and list(class_names) != names:
            raise SystemExit("error: box-derived labels are for the 80 COCO classes; the checkpoint has others")
        dataset = BoxViewDataset(args.train_images, args.train, preprocess["input_height"],
                                 scale=(args.crop_scale_min, 1.0),
                                 second_teacher=getattr(args, "second_teacher", None),
                                 second_share=getattr(args, "second_share", 1.0),
                                 mosaic=getattr(args, "mosaic", 0.0), jitter=getattr(args, "colour_jitter", 0.0))
        second = dataset.views.second
        if second is not None and not second.has.any():
            raise SystemExit(f"error: {args.second_teacher} has features for none of the training photos")
        return dataset, names
    if getattr(args, "second_teacher", None):
        raise SystemExit("error: --second-teacher needs --train with a teacher's boxes (.jsonl)")
    files, targets, names = read_labels(args.train, class_names)
    dataset = MultiLabelDataset(
        files, targets, args.train_images,
        train_transform(preprocess["input_height"], scale=(args.crop_scale_min, 1.0)),
    )
    return dataset, names


def make_loaders(args, preprocess, class_names=None):
    train_set, names = make_training_set(args, preprocess, class_names)
    workers = worker_count(args.workers)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=len(train_set) > args.batch_size, num_workers=workers)
    log.info("training set: %d images, %d classes (%s)", len(train_set), len(names), args.train)

    val_loader = None
    if args.val:
        val_files, val_targets, _ = read_labels(args.val, names)
        val_set = eval_dataset(val_files, val_targets, args.val_images or args.train_images, preprocess)
        val_loader = DataLoader(val_set, batch_size=args.batch_size, num_workers=0)
        log.info("validation set: %d images (%s)", len(val_set), args.val)
    return train_loader, val_loader, names


def evaluate_and_log(model, loader, title):
    if loader is None:
        return None
    scores, targets = predict(model, loader)
    result = summarize(scores, targets)
    log.info("%s: %s", title, format_metrics(result))
    return result


def provenance(args, previous=None):
    merged = dict(previous or {})
    for key in ("trained_on", "teacher"):
        value = getattr(args, key, None)
        if value:
            merged[key] = value
    return merged


# ---- Stages ---------------------------------------------------------------


def load_initial_model(path):
    """Load an FP32 model from a picotag FP32 checkpoint or a torchvision one."""
    checkpoint = torch.load(path, map_location="cpu")
    if isinstance(checkpoint, dict) and checkpoint.get("format") == CHECKPOINT_FORMAT:
        if checkpoint["kind"] != "fp32":
            raise SystemExit(f"error: {path} is a {checkpoint['kind']} checkpoint; --init needs an FP32 one")
        return load_checkpoint(path)[0]
    try:
        return load_torchvision_resnet(checkpoint)
    except CheckpointError as error:
        raise SystemExit(f"error: {path}: {error}")


def cmd_train_fp32(args):
    preprocess = default_preprocess(args.input_size, args.resize_short, args.resize_mode)
    if args.init:
        model = load_initial_model(args.init)
        log.info("initialised from %s: ResNet-%d width %d, %d classes", args.init, model.depth, model.width, model.num_classes)
    train_loader, val_loader, names = make_loaders(args, preprocess)
    if not args.init:
        model = ResNet(args.depth, len(names), args.width)
    elif model.num_classes != len(names):
        log.info("replacing the %d-class fc layer with a new %d-class one", model.num_classes, len(names))
        replaced = ResNet(model.depth, len(names), model.width, model.mean, model.std)
        state = {k: v for k, v in model.state_dict().items() if not k.startswith("fc.")}
        replaced.load_state_dict(state, strict=False)
        model = replaced

    loss_fn = make_loss(args.loss, args.asl_gamma_neg, args.asl_gamma_pos, args.asl_clip)
    trained = model
    if args.second_teacher:
        second = train_loader.dataset.views.second
        trained = FeatureDistillation(model, second.dim)
        loss_fn = feature_distillation_loss(loss_fn, args.feature_weight)
        log.info("second teacher: %d views per photo, %d features, weight %g (%s)",
                 second.views, second.dim, args.feature_weight, args.second_teacher)
    optimizer = make_optimizer(trained, args.optimizer, args.lr, args.weight_decay, args.momentum)
    average = WeightAverage(trained, args.average_decay) if args.average_decay else None
    losses = train(trained, train_loader, loss_fn, optimizer, args.epochs, args.max_steps, args.warmup_steps,
                   average=average)
    result = evaluate_and_log(model, val_loader, "FP32 validation")
    if average is not None:
        average.copy_to(trained)
        result = evaluate_and_log(model, val_loader, "FP32 validation, averaged weights (saved)")

    history = [{"stage": "train_fp32", "steps": len(losses), "final_loss": losses[-1], "val": result}]
    save_checkpoint(args.out, "fp32", model, preprocess, labels=names, provenance=provenance(args), history=history)
    log.info("wrote %s", args.out)


def cmd_train_qat(args):
    float_model, checkpoint = load_checkpoint(args.fp32)
    if checkpoint["kind"] != "fp32":
        raise SystemExit(f"error: {args.fp32} is a {checkpoint['kind']} checkpoint; train_qat needs an FP32 one")
    preprocess = checkpoint["preprocess"]
    train_loader, val_loader, names = make_loaders(args, preprocess, checkpoint.get("labels"))
    if len(names) != float_model.num_classes:
        raise SystemExit(f"error: the data has {len(names)} classes, the checkpoint {float_model.num_classes}")

    qmodel = QResNet.from_float(float_model)
    if args.step_init == "calibrate":
        images = itertools.islice((batch for batch, _ in train_loader), args.calibration_batches)
        qmodel = calibrate(float_model, images)
        qmodel.freeze_bn(False)
        log.info("steps initialised by calibration on %d batches", args.calibration_batches)
    else:
        log.info("steps initialised by LSQ (2 mean|v| / sqrt(Q_P)) on the first batch")

    freeze_at = None if args.freeze_bn_after is None else args.freeze_bn_after

    def on_step(step, total):
        if freeze_at is not None and step == int(freeze_at * total):
            qmodel.freeze_bn(True)
            log.info("batch norm frozen to running statistics at step %d of %d", step, total)

    loss_fn = make_loss(args.loss, args.asl_gamma_neg, args.asl_gamma_pos, args.asl_clip)
    optimizer = make_optimizer(qmodel, args.optimizer, args.lr, args.weight_decay, args.momentum)
    average = WeightAverage(qmodel, args.average_decay) if args.average_decay else None
    losses = train(qmodel, train_loader, loss_fn, optimizer, args.epochs, args.max_steps, args.warmup_steps, on_step,
                   average=average)
    qmodel.freeze_bn(True)
    result = evaluate_and_log(qmodel, val_loader, "QAT validation (fake-quantized)")
    if average is not None:
        average.copy_to(qmodel)
        qmodel.freeze_bn(True)
        result = evaluate_and_log(qmodel, val_loader, "QAT validation (fake-quantized), averaged weights (saved)")

    history = checkpoint.get("history", []) + [
        {"stage": "train_qat", "steps": len(losses), "final_loss": losses[-1], "val": result}
    ]
    save_checkpoint(args.out, "qat", qmodel, preprocess, labels=names,
                    provenance=provenance(args, checkpoint.get("provenance")), history=history)
    log.info("wrote %s", args.out)


def calibration_batches(args, preprocess):
    if args.images:
        dataset = ImageFolderDataset(args.images, eval_transform(preprocess), limit=args.batches * args.batch_size)
        log.info("calibrating on %d images from %s", len(dataset), args.images)
        return DataLoader(dataset, batch_size=args.batch_size, num_workers=worker_count(args.workers))
    log.warning(
        "no --images given: calibrating on random noise images; activation steps will not match real "
        "photos and accuracy will suffer. Pass --images with a few hundred representative photos."
    )
    return list(random_batches(args.batches, args.batch_size, preprocess["input_height"], preprocess["input_width"], args.seed))


def cmd_calibrate(args):
    float_model, checkpoint = load_checkpoint(args.fp32)
    if checkpoint["kind"] != "fp32":
        raise SystemExit(f"error: {args.fp32} is a {checkpoint['kind']} checkpoint; calibrate needs an FP32 one")
    preprocess = checkpoint["preprocess"]
    batches = calibration_batches(args, preprocess)
    qmodel = calibrate(float_model, batches, args.weight_method, args.activation_method, args.percentile)
    save_checkpoint(args.out, "ptq", qmodel, preprocess, labels=checkpoint.get("labels"),
                    provenance=checkpoint.get("provenance"), history=checkpoint.get("history"))
    log.info("wrote %s", args.out)


def read_label_file(path):
    labels = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            labels.append(coco_labels.Label(row["name_en"], row["name_ko"], row.get("group_en") or "other", row.get("group_ko") or "기타"))
    return labels


def real_thresholds(args, class_names):
    probabilities = np.full(len(class_names), args.threshold, dtype=np.float64)
    if args.thresholds_file:
        index = {name: k for k, name in enumerate(class_names)}
        with open(args.thresholds_file, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["class"] not in index:
                    raise SystemExit(f"error: {args.thresholds_file}: unknown class {row['class']!r}")
                probabilities[index[row["class"]]] = float(row["probability"])
    return probability_to_logit(probabilities)


def write_ptm(args, qmodel, preprocess, class_names, previous_provenance, quantization):
    if args.labels:
        labels = read_label_file(args.labels)
    else:
        labels = class_names or None
    class_count = qmodel.fc.weight.shape[0]
    try:
        names = [label.name_en for label in coco_labels.labels_for(class_count, labels)]
    except ValueError as error:
        raise SystemExit(f"error: {error}")
    meta = dict(previous_provenance or {})
    for key in ("trained_on", "teacher", "metrics", "description", "created"):
        if getattr(args, key, None):
            meta[key] = getattr(args, key)
    preprocess = {**preprocess, **view_fields(args)}
    try:
        model = export_model(args.out, qmodel, preprocess=preprocess, labels=labels,
                             thresholds=real_thresholds(args, names), meta=meta, quantization=quantization)
    except ModelFormatError as error:
        raise SystemExit(f"error: cannot export: {error}")
    log.info("wrote %s: %d operators, %d classes, input %dx%d", args.out, len(model.ops), len(model.labels),
             preprocess["input_height"], preprocess["input_width"])


def cmd_export(args):
    qmodel, checkpoint = load_checkpoint(args.checkpoint)
    if checkpoint["kind"] == "fp32":
        raise SystemExit(f"error: {args.checkpoint} is an FP32 checkpoint; run train_qat or calibrate first")
    quantization = "lsq-qat" if checkpoint["kind"] == "qat" else "ptq-calibrated"
    qmodel.freeze_bn(True)
    write_ptm(args, qmodel.eval(), checkpoint["preprocess"], checkpoint.get("labels"),
              checkpoint.get("provenance"), quantization)


def cmd_set_views(args):
    fields = view_fields(args)
    try:
        model = read_model(args.model)
    except (OSError, ModelFormatError) as error:
        raise SystemExit(f"error: cannot read {args.model}: {error}")
    for name, value in fields.items():
        setattr(model.preprocess, name, value)
    # The stored quality was measured with the old views.
    model.meta["metrics"] = args.metrics or "not measured with these views"
    try:
        write_model(args.out, model)
    except (OSError, ModelFormatError) as error:
        raise SystemExit(f"error: cannot write {args.out}: {error}")
    count = view_count(vars(model.preprocess))
    log.info("wrote %s with %d test-time view%s per photo", args.out, count, "" if count == 1 else "s")


def cmd_convert(args):
    try:
        float_model = load_torchvision_resnet(args.torchvision, mean=args.mean, std=args.std)
    except CheckpointError as error:
        raise SystemExit(f"error: {args.torchvision}: {error}")
    log.info("loaded ResNet-%d width %d with %d classes", float_model.depth, float_model.width, float_model.num_classes)
    preprocess = default_preprocess(args.input_size, args.resize_short)
    batches = calibration_batches(args, preprocess)
    qmodel = calibrate(float_model, batches, args.weight_method, args.activation_method, args.percentile)
    write_ptm(args, qmodel, preprocess, None, {}, "ptq-calibrated")


def cmd_evaluate(args):
    files, targets, names = read_labels(args.labels_file)
    if args.limit:
        files, targets = files[: args.limit], targets[: args.limit]

    if args.model:
        model_file = read_model(args.model)
        preprocess = vars(model_file.preprocess)
        if args.view_flip or args.view_grid:
            raise SystemExit("error: --view-* options apply to --checkpoint only, because a model file stores its own test-time views")
        runner = None
        if args.backend == "engine":
            from .engine import Engine

            engine_model = Engine().load(args.model)
            runner = engine_model.runner(preprocess["input_height"], preprocess["input_width"])
        scales = np.array([label.logit_scale for label in model_file.labels], dtype=np.float64)
        scores = []
        for index, name in enumerate(files):
            views = preprocess_views_rgb8(load_rgb8_pil(f"{args.images}/{name}"), preprocess)
            if runner:
                logits = runner.run_views(views)
            else:
                logits = mean_logits([intref.run(model_file, view).logits for view in views])
            scores.append(1.0 / (1.0 + np.exp(-logits.astype(np.float64) * scales)))
            if (index + 1) % 20 == 0:
                log.info("%d/%d images", index + 1, len(files))
        scores = np.stack(scores)
    else:
        model, checkpoint = load_checkpoint(args.checkpoint)
        if isinstance(model, QResNet):
            model.freeze_bn(True)
        dataset = eval_dataset(files, targets, args.images, {**checkpoint["preprocess"], **view_fields(args)})
        scores, _ = predict(model, DataLoader(dataset, batch_size=16))
    print(format_metrics(summarize(scores, targets, args.threshold)))


def cmd_thresholds(args):
    model, checkpoint = load_checkpoint(args.checkpoint)
    if isinstance(model, QResNet):
        model.freeze_bn(True)
    files, teacher, names = read_labels(args.labels_file, checkpoint.get("labels"))
    order = np.random.default_rng(args.seed).permutation(len(files))[: args.limit]
    files, teacher = [files[i] for i in order], teacher[order]
    dataset = eval_dataset(files, teacher, args.images, {**checkpoint["preprocess"], **view_fields(args)})
    scores, _ = predict(model, DataLoader(dataset, batch_size=64))
    thresholds, positives = f1_optimal_thresholds(scores, teacher, args.default, args.min_positives,
                                                  teacher_cut=args.teacher_cut)
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["class", "probability", "teacher_positives"])
        for name, threshold, count in zip(names, thresholds, positives):
            writer.writerow([name, f"{threshold:.2f}", int(count)])
    log.info("wrote %s: %d of %d classes tuned on %d photos", args.out,
             int((positives >= args.min_positives).sum()), len(names), len(files))


def cmd_teacher_features(args):
    # Imported here so that the other stages run without python3-flatbuffers.
    from .teacher_features import compute_teacher_features
    from .tflite import TFLiteFormatError
    from .tflite_net import load_tflite_net

    try:
        net = load_tflite_net(args.model)
    except (OSError, TFLiteFormatError) as error:
        raise SystemExit(f"error: cannot load the teacher: {error}")
    files = [name for name, _ in load_teacher_boxes(args.boxes)]
    if args.limit is not None:
        files = files[:args.limit]
    input_size = net.input_shape[1]
    log.info("teacher %s: %d photos x %d views at %d px -> %s", args.model, len(files), args.views, input_size,
             args.out)
    try:
        meta = compute_teacher_features(net, args.images, files, args.out, views=args.views,
                                        batch_size=args.batch_size, seed=args.seed, input_size=input_size,
                                        model_name=os.path.basename(args.model))
    except (OSError, ValueError) as error:
        # Finished batches stay in args.out, so the same command resumes after the fix.
        raise SystemExit(f"error: teacher_features stopped: {error}")
    log.info("wrote %s: %d photos, %.0f s of computation", args.out, meta["done"], meta["seconds"])


def cmd_teacher_boxes(args):
    from .data import list_images
    from .teacher_boxes import label_photos

    if args.list:
        with open(args.list, encoding="utf-8") as stream:
            files = [line.strip() for line in stream if line.strip()]
    else:
        try:
            files = [os.path.relpath(path, args.images) for path in list_images(args.images)]
        except FileNotFoundError as error:
            raise SystemExit(f"error: {error}")
    if not files:
        raise SystemExit(f"error: no photos found in {args.list or args.images}")
    log.info("teacher %s: %d photos -> %s", args.model, len(files), args.out)
    written, failed = label_photos(args.model, args.images, files, args.out, args.scores, threads=args.threads,
                                   log=log.info, warn=log.warning)
    log.info("wrote %s: %d photos labelled, %d skipped", args.out, written, failed)


# ---- Parser ---------------------------------------------------------------


def build_parser():
    parser = argparse.ArgumentParser(prog="python3 -m picotag_train", description="picotag training stages")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("train_fp32", help="train the FP32 ResNet (from scratch or a torchvision checkpoint)")
    add_data_options(p)
    add_training_options(p, lr=0.05, epochs=30)
    add_common_options(p)
    p.add_argument("--depth", type=int, choices=(18, 34, 50), default=18)
    p.add_argument("--width", type=int, default=64, help="base width (channels of the stem); torchvision uses 64")
    p.add_argument("--input-size", type=int, default=224, help="network input, pixels (square)")
    p.add_argument("--resize-short", type=int, help="eval resize of the shorter side (default input-size / 0.875)")
    p.add_argument("--resize-mode", choices=("crop", "stretch"), default="crop",
                   help="eval recipe: crop = shorter side to --resize-short then centre crop; "
                        "stretch = whole photo to the input size")
    p.add_argument("--init", help="picotag FP32 or torchvision ResNet checkpoint to start from (its depth and width are used)")
    p.add_argument("--second-teacher",
                   help="folder of a second teacher's features for fixed views of the training photos (from the "
                        "teacher_features stage); the student also learns to predict them from its pooled features")
    p.add_argument("--feature-weight", type=float, default=1.0,
                   help="weight of the second teacher's feature loss against the label loss")
    p.add_argument("--second-share", type=float, default=1.0,
                   help="fraction of the samples drawn from the second teacher's views; the others are "
                        "fresh random crops without a feature target")
    p.add_argument("--mosaic", type=float, default=0.0,
                   help="with box-derived labels: probability that a sample is a 2x2 mosaic of four random views "
                        "(label: per-class maximum)")
    p.add_argument("--colour-jitter", type=float, default=0.0,
                   help="with box-derived labels: scale brightness, contrast and saturation by random factors "
                        "in [1 - J, 1 + J]")
    p.add_argument("--out", required=True, help="checkpoint to write")
    p.set_defaults(run=cmd_train_fp32)

    p = commands.add_parser("train_qat", help="LSQ quantization-aware training from an FP32 checkpoint")
    add_data_options(p)
    add_training_options(p, lr=0.005, epochs=5)
    add_common_options(p)
    p.add_argument("--fp32", required=True, help="FP32 checkpoint from train_fp32")
    p.add_argument("--step-init", choices=("lsq", "calibrate"), default="lsq",
                   help="lsq: 2 mean|v| / sqrt(Q_P) on the first batch; calibrate: PTQ steps first")
    p.add_argument("--calibration-batches", type=int, default=8)
    p.add_argument("--freeze-bn-after", type=float, default=0.5,
                   help="fraction of the steps after which batch norm uses running statistics (folded form)")
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_train_qat)

    def add_calibration_options(p):
        p.add_argument("--images", help="folder of representative photos (searched recursively)")
        p.add_argument("--batches", type=int, default=8, help="calibration batches")
        p.add_argument("--batch-size", type=int, default=16)
        p.add_argument("--workers", type=int, default=2)
        p.add_argument("--weight-method", choices=WEIGHT_METHODS, default="max")
        p.add_argument("--activation-method", choices=ACTIVATION_METHODS, default="mse")
        p.add_argument("--percentile", type=float, default=99.99, help="for --activation-method percentile")

    p = commands.add_parser("calibrate", help="post-training calibration (PTQ) of an FP32 checkpoint")
    p.add_argument("--fp32", required=True)
    add_calibration_options(p)
    add_common_options(p)
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_calibrate)

    p = commands.add_parser("export", help="write a QAT or PTQ checkpoint as a picotag model file")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", required=True, help=".ptm file to write")
    add_meta_options(p)
    add_common_options(p)
    p.set_defaults(run=cmd_export)

    p = commands.add_parser("set_views", help="copy a model file with other test-time views (the network is unchanged)",
                            description="Copy a model file with other test-time views. The integers and thresholds "
                            "stay as they are; META metrics is reset, because it was measured with the old views. "
                            "Without --view-* options the copy runs one view.")
    p.add_argument("--model", required=True, help=".ptm model file to read")
    p.add_argument("--out", required=True, help=".ptm file to write")
    p.add_argument("--metrics", help="META metrics of the copy (default: 'not measured with these views')")
    add_view_options(p)
    add_common_options(p)
    p.set_defaults(run=cmd_set_views)

    p = commands.add_parser("convert", help="torchvision ResNet checkpoint -> calibrated picotag model file")
    p.add_argument("--torchvision", required=True, help="state_dict of torchvision.models.resnet18/34/50")
    p.add_argument("--input-size", type=int, default=224)
    p.add_argument("--resize-short", type=int)
    p.add_argument("--mean", type=float, nargs=3, default=IMAGENET_MEAN)
    p.add_argument("--std", type=float, nargs=3, default=IMAGENET_STD)
    add_calibration_options(p)
    add_meta_options(p)
    add_common_options(p)
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_convert)

    p = commands.add_parser("thresholds", help="per-class thresholds: F1-optimal against a teacher's decisions")
    p.add_argument("--checkpoint", required=True, help="picotag checkpoint (qat, ptq or fp32)")
    p.add_argument("--labels-file", required=True, help="CSV of the teacher's scores per photo (file + class columns)")
    p.add_argument("--images", required=True, help="folder that the CSV's file names are relative to")
    p.add_argument("--limit", type=int, default=4000, help="photos to use, drawn at random")
    p.add_argument("--default", type=float, default=0.5, help="threshold of classes with too few positives")
    p.add_argument("--min-positives", type=int, default=10, help="teacher positives a class needs to be tuned")
    p.add_argument("--teacher-cut", type=float, default=TEACHER_CUT,
                   help="teacher score from which a photo counts as showing the class")
    p.add_argument("--out", required=True, help="CSV to write: class,probability (read by export --thresholds-file)")
    add_view_options(p)
    add_common_options(p)
    p.set_defaults(run=cmd_thresholds)

    p = commands.add_parser("evaluate", help="mAP and thresholded metrics on labelled photos")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="picotag checkpoint (fp32, qat or ptq)")
    source.add_argument("--model", help=".ptm model file")
    p.add_argument("--backend", choices=("intref", "engine"), default="intref",
                   help="how to run a .ptm: the C engine, or the NumPy integer reference (slow for full-size models)")
    p.add_argument("--labels-file", required=True, help="CSV or COCO JSON with the true labels")
    p.add_argument("--images", required=True)
    p.add_argument("--limit", type=int, help="use only the first N photos")
    p.add_argument("--threshold", type=float, default=0.5, help="probability threshold for CP/CR/CF1/OP/OR/OF1")
    add_view_options(p)
    add_common_options(p)
    p.set_defaults(run=cmd_evaluate)

    p = commands.add_parser("teacher_features",
                            help="features and logits of a TFLite ImageNet classifier for views of the training photos")
    p.add_argument("--model", required=True, help="quantized .tflite classifier (e.g. mobilenet_v2_1.0_224_quant.tflite)")
    p.add_argument("--boxes", required=True, help="teacher_boxes.jsonl: the photos, in the order training reads them")
    p.add_argument("--images", required=True, help="folder that the photo names are relative to")
    p.add_argument("--views", type=int, default=4, help="views per photo: the whole photo, then random crops")
    p.add_argument("--batch-size", type=int, default=32, help="views per forward pass")
    p.add_argument("--limit", type=int, help="use only the first N photos")
    p.add_argument("--out", required=True,
                   help="folder for files.npy, crops.npy, features.npy, logits.npy and meta.json; "
                        "a run with the same settings there is resumed")
    add_common_options(p)
    p.set_defaults(run=cmd_teacher_features)

    p = commands.add_parser("teacher_boxes",
                            help="run the YOLOX-Nano teacher (ONNX, through Node.js) on photos and write its "
                                 "detections as teacher_boxes.jsonl")
    p.add_argument("--model", required=True,
                   help="the teacher, yolox_nano.onnx (in the shared data: models/yolox-nano/yolox_nano.onnx); "
                        "--threads sets ONNX Runtime's threads")
    p.add_argument("--images", required=True, help="folder that the photo names are relative to")
    p.add_argument("--list", help="text file with one photo name per line (default: every photo under --images)")
    p.add_argument("--scores", help="also write the image-level scores: CSV with file and the 80 classes")
    p.add_argument("--out", required=True, help="JSON lines file to write")
    add_common_options(p)
    p.set_defaults(run=cmd_teacher_boxes)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    torch.set_num_threads(max(1, args.threads))
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    start = time.time()
    args.run(args)
    log.info("%s finished in %.1f s", args.command, time.time() - start)


if __name__ == "__main__":
    main()
