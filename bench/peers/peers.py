"""Time picotag against ONNX Runtime and PyTorch on the same ResNets.

    PYTHONPATH=train:bench/peers /usr/bin/python3 bench/peers/peers.py [--depths 18 50] [--threads 1 2]

bench/peers/run.sh installs the dependencies, builds, and then runs this.
For each depth it builds the networks (make_models.py) unless they exist.
It checks that picotag and the ONNX Runtime int8 graph compute the same
function, then times every engine with each thread count, one engine
process after another. It prints a table per depth and thread count.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from make_models import DEFAULT_PHOTOS
from picotag_train.modelfile import OP_CONV2D, OP_FULLY_CONNECTED, plan_shapes, read_model

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parents[1]
PYTHON = "/usr/bin/python3"
INPUT_SIZE = 224
# Minimum correlation of picotag's and ONNX Runtime int8's photo-dependent
# logits for the two to count as the same network.
AGREEMENT_THRESHOLD = 0.99


class Engine:
    """A peer engine: its command line and the type of the logits it writes."""

    def __init__(self, key, title, command, logits_dtype):
        self.key = key
        self.title = title
        self.command = command  # function (threads, logits file or None) -> argv
        self.logits_dtype = logits_dtype


def engines(depth, build, models):
    ptm = models / f"resnet{depth}.ptm"
    photos = models / "photos.u8"
    checkpoint = models / f"resnet{depth}.fp32.pt"
    driver = build / "bench" / "picotag_peer_bench"
    node = ["node", str(BENCH / "ort_bench.js")]
    torch_bench = [PYTHON, str(BENCH / "torch_bench.py"), str(checkpoint), str(photos)]

    def with_logits(argv, logits):
        return argv + (["--logits", str(logits)] if logits else [])

    return [
        Engine("picotag", "picotag int8", lambda t, l: with_logits([str(driver), str(ptm), str(photos), "--threads", str(t)], l), np.int32),
        Engine("ort-int8", "ONNX Runtime int8 QDQ", lambda t, l: with_logits(node + [str(models / f"resnet{depth}.int8.onnx"), str(photos), "--threads", str(t)], l), np.float32),
        Engine("torch-onednn", "PyTorch int8 onednn (own PTQ)", lambda t, l: with_logits(torch_bench + ["--engine", "onednn", "--threads", str(t)], l), np.float32),
        Engine("torch-qnnpack", "PyTorch int8 qnnpack (own PTQ)", lambda t, l: with_logits(torch_bench + ["--engine", "qnnpack", "--threads", str(t)], l), np.float32),
        Engine("ort-fp32", "ONNX Runtime fp32", lambda t, l: with_logits(node + [str(models / f"resnet{depth}.fp32.onnx"), str(photos), "--threads", str(t)], l), np.float32),
        Engine("torch-fp32", "PyTorch fp32 (eager)", lambda t, l: with_logits(torch_bench + ["--engine", "fp32", "--threads", str(t)], l), np.float32),
    ]


def count_macs(model):
    """Return the multiply-accumulates of one forward pass, from the model's layers."""
    shapes = plan_shapes(model, INPUT_SIZE, INPUT_SIZE)
    macs = 0
    for op in model.ops:
        if op.op_type == OP_CONV2D:
            out_h, out_w = shapes[op.output]
            out_c, kernel_h, kernel_w, in_c = model.tensors[op.weight].shape
            macs += out_h * out_w * out_c * kernel_h * kernel_w * in_c
        elif op.op_type == OP_FULLY_CONNECTED:
            macs += model.tensors[op.weight].size
    return macs


def run_engine(engine, threads, warmup, runs, logits=None):
    argv = engine.command(threads, logits) + ["--warmup", str(warmup), "--runs", str(runs)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO)
    if result.returncode != 0:
        raise SystemExit(f"error: {engine.title} failed (exit {result.returncode}): {' '.join(argv)}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_peak(build):
    output = subprocess.run([str(build / "bench" / "picotag_peer_bench"), "--peak"],
                            capture_output=True, text=True, check=True).stdout
    return json.loads(output)["int8_peak_macs_per_second"]


def unfused_logits(depth, models, model):
    """Return the real logits of the QDQ graph without the quantization before each add.

    ONNX Runtime runs that graph's residual convolutions in float32, so it
    is slow, but it rounds at the same points as picotag (half to even in
    float32, where picotag rounds half up in fixed point).
    """
    engine = Engine("ort-int8-unfused-add", "", None, np.float32)
    path = models / f"logits-{depth}-{engine.key}.bin"
    engine.command = lambda t, l: ["node", str(BENCH / "ort_bench.js"), str(models / f"resnet{depth}.int8-unfused-add.onnx"),
                                   str(models / "photos.u8"), "--threads", str(t), "--logits", str(path)]
    run_engine(engine, 1, 0, 1)
    return real_logits(engine, path, model)


def correlation(a, b):
    """Return the Pearson correlation of the photo-dependent parts (each class's mean over the photos removed)."""
    a = a - a.mean(0)
    b = b - b.mean(0)
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def real_logits(engine, path, model):
    values = np.fromfile(path, dtype=engine.logits_dtype).reshape(-1, len(model.labels)).astype(np.float64)
    if engine.key == "picotag":
        values *= np.array([label.logit_scale for label in model.labels], dtype=np.float64)
    return values


def print_agreement(logits, model):
    """Print how close each engine's logits are to picotag's and to the FP32 network's."""
    reference = logits["picotag"]
    fp32 = logits["torch-fp32"]
    spread = float((reference - reference.mean(0)).std())
    print(f"agreement on {len(reference)} photos x {reference.shape[1]} logits "
          "(correlation of the photo-dependent part: each class's mean over the photos removed)")
    print(f"  {'engine':32} {'r vs picotag':>13} {'r vs fp32':>10} {'mean |d| vs picotag':>20} {'max |d|':>8}")
    for key, values in logits.items():
        difference = np.abs(values - reference)
        print(f"  {key:32} {correlation(values, reference):13.5f} {correlation(values, fp32):10.5f} "
              f"{difference.mean() / spread:19.3f}s {difference.max() / spread:7.3f}s")
    print("  (d: logit difference; s: the standard deviation of picotag's photo-dependent logits, "
          f"{spread:.4f}; ort-int8-unfused-add: the int8 graph without the extra rounding before each "
          "residual add, not timed)")
    r = correlation(logits["ort-int8"], reference)
    verdict = "the same network" if r > AGREEMENT_THRESHOLD else "NOT the same network"
    print(f"  picotag vs ONNX Runtime int8: r = {r:.5f} -> {verdict} (threshold {AGREEMENT_THRESHOLD})")
    return r


def summarize(ms):
    ms = np.asarray(ms)
    return {"median": float(np.median(ms)), "min": float(ms.min()),
            "p10": float(np.percentile(ms, 10)), "p90": float(np.percentile(ms, 90)), "runs": int(ms.size)}


def print_table(depth, threads, results, macs, peak):
    base = results["picotag"]["median"]
    print(f"\nResNet-{depth}, 224 x 224, batch 1, {threads} thread{'s' if threads > 1 else ''}: "
          f"{macs / 1e9:.3f} G multiply-accumulates")
    print(f"  {'engine':32} {'median ms':>10} {'min ms':>8} {'p10-p90 ms':>15} {'x picotag':>10} {'GMAC/s':>8}")
    for key, stats in results.items():
        rate = macs / (stats["median"] * 1e-3)
        spread = f"{stats['p10']:.2f}-{stats['p90']:.2f}"
        print(f"  {stats['title']:32} {stats['median']:10.2f} {stats['min']:8.2f} {spread:>15} "
              f"{stats['median'] / base:10.2f} {rate / 1e9:8.1f}")
    if peak > 0:
        rate = macs / (base * 1e-3)
        print(f"  picotag: {100 * rate / (peak * threads):.1f}% of the int8 peak of {threads} core(s) "
              f"({peak * threads / 1e9:.1f} GMAC/s) at the median, "
              f"{100 * macs / (results['picotag']['min'] * 1e-3) / (peak * threads):.1f}% at the minimum")
    print("  (x picotag: the engine's median / picotag's median; above 1, picotag is faster)")


def machine_summary():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def ensure_models(depth, models, photos, rebuild):
    if rebuild or not (models / f"resnet{depth}.int8.onnx").exists():
        subprocess.run([PYTHON, str(BENCH / "make_models.py"), "--depth", str(depth), "--out", str(models),
                        "--photos", photos], check=True,
                       env=dict(os.environ, PYTHONPATH=f"{REPO / 'train'}:{BENCH}"))


def print_peak(peak):
    if peak > 0:
        print(f"\nint8 peak   {peak / 1e9:.1f} GMAC/s per core: VPDPBUSD (64 uint8 x int8 multiply-accumulates "
              "each) on 16 independent zmm accumulators, best of 10 timed loops, measured before and after "
              "the runs and the higher kept (bench/int8_peak_avx512vnni.c); n threads: n times that")
    else:
        print("\nint8 peak   not measured: this CPU has no AVX-512 VNNI")


def time_engines(depth, threads, keep_logits, args, models, model):
    """Return ({engine key: timing summary}, {engine key: real logits}).

    The timed runs are split into --rounds rounds. Each round starts every
    engine once, in an order rotated by one per round, so that a change in
    the machine's load during the run falls on every engine alike.
    """
    engine_list = engines(depth, args.build, models)
    runs_per_round = -(-args.runs // args.rounds)
    samples = {engine.key: [] for engine in engine_list}
    details = {}
    logits = {}
    for round_index in range(args.rounds):
        shift = round_index % len(engine_list)
        for engine in engine_list[shift:] + engine_list[:shift]:
            logits_path = None
            if keep_logits and round_index == 0:
                logits_path = models / f"logits-{depth}-{engine.key}.bin"
            output = run_engine(engine, threads, args.warmup, runs_per_round, logits_path)
            samples[engine.key] += output["ms"]
            details[engine.key] = {"title": engine.title, "version": output.get("version"),
                                   "kernels": output.get("kernels")}
            if logits_path:
                logits[engine.key] = real_logits(engine, logits_path, model)
    results = {key: dict(summarize(samples[key]), **details[key]) for key in samples}
    return results, {key: logits[key] for key in samples if key in logits}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[18, 50], choices=(18, 50))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs before the timed ones")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per engine and thread count")
    parser.add_argument("--rounds", type=int, default=3,
                        help="split the runs into this many rounds over all engines (each round restarts each engine)")
    parser.add_argument("--build", type=Path, default=REPO / "build-peers", help="CMake build folder")
    parser.add_argument("--photos", default=str(DEFAULT_PHOTOS),
                        help="photos for batch norm statistics, calibration and the agreement check (read only)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the models even if they exist")
    parser.add_argument("--json", type=Path, help="also write every timing to this JSON file")
    args = parser.parse_args(argv)

    models = args.build / "peers"
    start = time.time()
    print(f"date        {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
    print(f"machine     {machine_summary()}")
    print(f"load        {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 minute averages before the run)")
    peak = measure_peak(args.build)

    report = {"results": []}
    for depth in args.depths:
        ensure_models(depth, models, args.photos, args.rebuild)
        model = read_model(models / f"resnet{depth}.ptm")
        macs = count_macs(model)
        info = json.loads((models / f"resnet{depth}.json").read_text())
        print(f"\n=== ResNet-{depth} (width 64, random weights; batch norm statistics and int8 steps "
              f"from {info['photos']})", flush=True)
        for threads in args.threads:
            results, logits = time_engines(depth, threads, threads == args.threads[0], args, models, model)
            if logits:
                logits["ort-int8-unfused-add"] = unfused_logits(depth, models, model)
                if print_agreement(logits, model) <= AGREEMENT_THRESHOLD:
                    raise SystemExit(f"error: ResNet-{depth}: picotag and ONNX Runtime int8 disagree, so the "
                                     "ONNX graph is not picotag's network; fix qdq_onnx.py before timing")
            report["results"].append({"depth": depth, "threads": threads, "macs": macs, "engines": results})

    peak = max(peak, measure_peak(args.build))
    report["peak_macs_per_second"] = peak
    print_peak(peak)
    for entry in report["results"]:
        print_table(entry["depth"], entry["threads"], entry["engines"], entry["macs"], peak)
    print(f"\nversions    picotag {report['results'][0]['engines']['picotag']['version']} "
          f"(kernels {report['results'][0]['engines']['picotag']['kernels']}), "
          f"onnxruntime-node {report['results'][0]['engines']['ort-int8']['version']}, "
          f"PyTorch {report['results'][0]['engines']['torch-fp32']['version']}")
    print(f"load        {' '.join(f'{v:.2f}' for v in os.getloadavg())} (after the run)")
    print(f"duration    {time.time() - start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    sys.exit(main())
