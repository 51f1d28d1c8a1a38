// ONNX Runtime side of bench/peers, through onnxruntime-node (CPU).
//
//   node ort_bench.js MODEL.onnx PHOTOS.u8 --threads N [--warmup N] [--runs N] [--logits FILE]
//
// PHOTOS.u8 contains uint8 RGB images, HWC, of the model's input size, one
// after another. The model's input "image" is NCHW: uint8 for the int8
// QDQ graph, float32 (values 0..255) for the FP32 graph; the layout change
// is made before timing. The first image is timed. With --logits, the
// float32 logits of every image are written to FILE.
//
// Prints one JSON object: the ONNX Runtime version, the threads and every
// timed run in milliseconds.
'use strict';

const fs = require('fs');
const ort = require('onnxruntime-node');

function parseArguments(argv) {
  const options = { threads: 1, warmup: 5, runs: 20, logits: null, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (['--threads', '--warmup', '--runs'].includes(flag) && i + 1 < argv.length) {
      const value = Number.parseInt(argv[++i], 10);
      if (!Number.isInteger(value) || value < (flag === '--warmup' ? 0 : 1)) {
        throw new Error(`${flag} must be a positive integer, got ${argv[i]}`);
      }
      options[flag.slice(2)] = value;
    } else if (flag === '--logits' && i + 1 < argv.length) {
      options.logits = argv[++i];
    } else {
      options.positional.push(flag);
    }
  }
  if (options.positional.length !== 2) {
    throw new Error('usage: node ort_bench.js MODEL.onnx PHOTOS.u8 --threads N [--warmup N] [--runs N] [--logits FILE]');
  }
  return options;
}

// Returns the image at `index` of the HWC file as NCHW data of the model's input type.
function imageTensor(photos, index, height, width, type) {
  const pixels = height * width;
  const data = type === 'uint8' ? new Uint8Array(3 * pixels) : new Float32Array(3 * pixels);
  const base = index * 3 * pixels;
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) {
      data[c * pixels + p] = photos[base + 3 * p + c];
    }
  }
  return new ort.Tensor(type, data, [1, 3, height, width]);
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const [modelPath, photosPath] = options.positional;
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });

  const metadata = session.inputMetadata[0];
  const [, , height, width] = metadata.shape;
  const type = metadata.type === 'uint8' ? 'uint8' : 'float32';
  const photos = fs.readFileSync(photosPath);
  const imageBytes = height * width * 3;
  if (photos.length === 0 || photos.length % imageBytes !== 0) {
    throw new Error(`${photosPath}: ${photos.length} bytes is not a multiple of ${height} x ${width} x 3`);
  }

  if (options.logits) {
    const chunks = [];
    for (let i = 0; i < photos.length / imageBytes; i++) {
      const result = await session.run({ image: imageTensor(photos, i, height, width, type) });
      chunks.push(Buffer.from(new Float32Array(result.logits.data).buffer));
    }
    fs.writeFileSync(options.logits, Buffer.concat(chunks));
  }

  const feeds = { image: imageTensor(photos, 0, height, width, type) };
  const milliseconds = [];
  for (let i = 0; i < options.warmup + options.runs; i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= options.warmup) {
      milliseconds.push(elapsed);
    }
  }
  console.log(JSON.stringify({
    engine: 'onnxruntime-node', version: ort.env.versions.common, input: type,
    threads: options.threads, ms: milliseconds,
  }));
}

main().catch((error) => {
  console.error(`ort_bench.js: ${error.message}`);
  process.exit(1);
});
