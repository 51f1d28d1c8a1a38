// Runs the YOLOX-Nano teacher over a stream of letterboxed images.
//
// Usage: node yolox_stream.js MODEL.onnx [THREADS]
// stdin: images one after another, each float32 [1, 3, 416, 416] (BGR,
// 0-255, letterboxed), little-endian. stdout: for each image the raw
// output float32 [1, 3549, 85], in the same order. The Python side
// (picotag_train/teacher_boxes.py) writes the images and decodes the boxes.
"use strict";

const ort = require("onnxruntime-node");

const INPUT_SIZE = 416;
const INPUT_BYTES = 3 * INPUT_SIZE * INPUT_SIZE * 4;

async function main() {
  const [modelPath, threadsText] = process.argv.slice(2);
  if (!modelPath) {
    process.stderr.write("usage: node yolox_stream.js MODEL.onnx [THREADS]\n");
    process.exit(2);
  }
  const threads = threadsText ? Number(threadsText) : 1;
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];

  let pending = Buffer.alloc(0);
  let chain = Promise.resolve();
  const runOne = async (bytes) => {
    const pixels = new Float32Array(bytes.buffer, bytes.byteOffset, INPUT_BYTES / 4);
    const input = new ort.Tensor("float32", pixels, [1, 3, INPUT_SIZE, INPUT_SIZE]);
    const result = await session.run({ [inputName]: input });
    const data = result[outputName].data;
    const out = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (!process.stdout.write(out)) {
      await new Promise((resolve) => process.stdout.once("drain", resolve));
    }
  };
  process.stdin.on("data", (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= INPUT_BYTES) {
      const image = Buffer.from(pending.subarray(0, INPUT_BYTES));
      pending = pending.subarray(INPUT_BYTES);
      chain = chain.then(() => runOne(image));
    }
  });
  process.stdin.on("end", () => {
    chain.then(() => {
      if (pending.length !== 0) {
        process.stderr.write(`yolox_stream: invalid input: the last ${pending.length} bytes are not a whole image\n`);
        process.exitCode = 1;
      }
    }, (error) => {
      process.stderr.write(`yolox_stream: ${error.message}\n`);
      process.exitCode = 1;
    });
  });
}

main().catch((error) => {
  process.stderr.write(`yolox_stream: ${error.message}\n`);
  process.exit(1);
});
