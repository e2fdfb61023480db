"""Convert ``examples/models/fsdd-wavcnn/model.onnx`` to TFLite and check the result against the ONNX model.

The raw-waveform 1-D CNN trained by ``train_zoo_models.py`` is exported to ONNX with a small set of
ops (Conv, AveragePool, MaxPool, Log, Relu, ReduceMean, BatchNormalization, Gemm, elementwise
arithmetic and the shape arithmetic that pads short inputs to one second). ``convert`` rebuilds that
graph op by op as a ``tf.function`` (weights copied from the ONNX initializers; Conv ``[out, in, k]``
-> TF ``[k, in, out]``, convolutions and pools run channels-last between transposes) and converts it
with ``tf.lite.TFLiteConverter`` to a float32 model of builtin ops only. Nothing is retrained and no
third-party converter is involved; an op outside that set stops the conversion with a message.

The TFLite model keeps both axes dynamic, like the ONNX model: input float32 [N, L] (tensor
``serving_default_audio:0``, declared shape [1, 1], shape signature [-1, -1]; call
``resize_tensor_input`` to the batch's shape and ``allocate_tensors`` before ``set_tensor``), output
float32 [N, 10] logits (tensor ``PartitionedCall:0``, shape signature [-1, 10]). The signature
``serving_default`` names them ``audio`` and ``logits`` (``get_signature_runner()(audio=x)["logits"]``).
Clips shorter than 8000 samples are zero-padded at the end inside the model, as in ONNX and torch.

Two steps, in two virtual environments (TensorFlow is not a dependency of freqrex-bench):

1. Convert, in a TensorFlow venv (from the repository root)::

       python3 -m venv /path/to/venv-tf
       /path/to/venv-tf/bin/pip install tensorflow-cpu onnx
       /path/to/venv-tf/bin/python examples/convert_to_tflite.py convert

   writes ``examples/models/fsdd-wavcnn/model.tflite`` (tested with tensorflow-cpu 2.21.0, onnx 1.23.2).

2. Verify, in the freqrex-bench venv (``pip install -e '.[all]'`` plus ``ai-edge-litert==2.3.0``)::

       pip install ai-edge-litert==2.3.0
       python examples/convert_to_tflite.py verify [--data DIR/recordings]

   runs the TFLite file with ``ai_edge_litert.interpreter.Interpreter`` and the ONNX file with
   onnxruntime on the same inputs (random signals at several lengths and batch sizes and, with
   ``--data``, every FSDD clip of the held-out speaker at its own length), with LiteRT's default
   XNNPACK delegate and with its builtin kernels, prints the max abs difference of logits and of
   softmax scores as JSON, and exits 1 if a softmax score differs by more than ``--atol`` (1e-5).
   Logits agree to about 1e-5 too (float32 rounding in a different kernel order; onnxruntime and
   torch differ by as much), see the model card for the figures.

``--onnx`` and ``--tflite`` choose other files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO_ROOT / "examples" / "models" / "fsdd-wavcnn"
MIN_SAMPLES = 8000
SAMPLING_RATE = 8000
LABELS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("step", choices=["convert", "verify"])
    p.add_argument("--onnx", type=Path, default=MODEL_DIR / "model.onnx")
    p.add_argument("--tflite", type=Path, default=MODEL_DIR / "model.tflite")
    p.add_argument("--data", type=Path, default=None, help="verify: FSDD recordings directory (optional)")
    p.add_argument("--holdout", default="theo", help="verify: speaker whose clips are compared (default: %(default)s)")
    p.add_argument("--atol", type=float, default=1e-5, help="verify: max allowed abs difference of softmax scores")
    return p.parse_args()


# --------------------------------------------------------------------------- convert (TensorFlow venv)

# Every ONNX op this script translates. The model's ONNX graph (exported by torch) uses only these; any
# other op stops the conversion with a message rather than being guessed at.
SUPPORTED = {
    "Shape",
    "Squeeze",
    "Unsqueeze",
    "Max",
    "Add",
    "Sub",
    "Mul",
    "Reshape",
    "Concat",
    "Pad",
    "Constant",
    "Cast",
    "Conv",
    "AveragePool",
    "MaxPool",
    "Log",
    "Relu",
    "ReduceMean",
    "BatchNormalization",
    "Gemm",
}


def build_tf_function(onnx_path: Path):
    """A tf.function computing the ONNX graph op by op (NCW tensors, as in ONNX).

    Convolutions and pools run channels-last in TF, so they are wrapped in transposes; the TFLite
    converter keeps the arithmetic in float32 (no quantisation, no op fusion that changes results
    beyond float rounding).
    """
    import onnx
    import tensorflow as tf
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    graph = model.graph
    unknown = sorted({n.op_type for n in graph.node} - SUPPORTED)
    if unknown:
        raise SystemExit(f"{onnx_path}: ONNX ops {unknown} are not supported by this converter")
    if len(graph.input) != 1 or len(graph.output) != 1:
        raise SystemExit(f"{onnx_path}: expected one input and one output")

    def const(array: np.ndarray) -> tf.Tensor:
        # integer constants (shape arithmetic) as int32: what TFLite's shape ops use
        return tf.constant(array.astype(np.int32) if array.dtype == np.int64 else array.astype(np.float32))

    initializers = {t.name: numpy_helper.to_array(t) for t in graph.initializer}

    def ncw_to_nwc(x):
        return tf.transpose(x, [0, 2, 1])

    def run(audio: tf.Tensor) -> tf.Tensor:
        v: dict = {graph.input[0].name: audio}
        v.update({name: const(a) for name, a in initializers.items()})
        for node in graph.node:
            a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
            x = [v[i] if i else None for i in node.input]
            op = node.op_type
            if op == "Constant":
                y = const(numpy_helper.to_array(a["value"]))
            elif op == "Shape":
                y = tf.shape(x[0], out_type=tf.int32)[a.get("start", 0) : a.get("end", None)]
            elif op == "Squeeze":
                y = tf.squeeze(x[0], axis=None if len(x) < 2 else [int(i) for i in initializers[node.input[1]]])
            elif op == "Unsqueeze":
                y = x[0]
                for axis in sorted(int(i) for i in initializers[node.input[1]]):
                    y = tf.expand_dims(y, axis)
            elif op == "Cast":
                y = tf.cast(x[0], tf.float32 if a["to"] == onnx.TensorProto.FLOAT else tf.int32)
            elif op == "Max":
                y = x[0]
                for other in x[1:]:
                    y = tf.maximum(y, other)
            elif op in ("Add", "Sub", "Mul"):
                y = {"Add": tf.add, "Sub": tf.subtract, "Mul": tf.multiply}[op](x[0], x[1])
            elif op == "Reshape":
                y = tf.reshape(x[0], x[1])
            elif op == "Concat":
                y = tf.concat(x, axis=a["axis"])
            elif op == "Pad":
                if a.get("mode", b"constant") not in (b"constant", "constant") or len(x) > 3 and x[3] is not None:
                    raise SystemExit(f"unsupported Pad {a}")
                rank = len(x[0].shape)
                pads = tf.reshape(x[1], [2, rank])
                y = tf.pad(x[0], tf.transpose(pads), constant_values=0.0 if len(x) < 3 or x[2] is None else x[2])
            elif op == "Conv":
                w = initializers[node.input[1]]
                if w.ndim != 3 or a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1])):
                    raise SystemExit(f"unsupported Conv {a} weight {w.shape}")
                left, right = a.get("pads", [0, 0])
                h = tf.pad(ncw_to_nwc(x[0]), [[0, 0], [left, right], [0, 0]])
                h = tf.nn.conv1d(
                    h, tf.constant(np.transpose(w, (2, 1, 0))), stride=a.get("strides", [1])[0], padding="VALID"
                )  # ONNX [out, in, k] -> TF [k, in, out]
                if len(x) > 2 and x[2] is not None:
                    h = h + x[2]
                y = ncw_to_nwc(h)
            elif op in ("AveragePool", "MaxPool"):
                k = a["kernel_shape"][0]
                stride = a.get("strides", [1])[0]
                if any(a.get("pads", [0, 0])) or a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1])):
                    raise SystemExit(f"unsupported {op} {a}")
                pool = tf.nn.avg_pool1d if op == "AveragePool" else tf.nn.max_pool1d
                y = ncw_to_nwc(pool(ncw_to_nwc(x[0]), k, stride, padding="VALID"))
            elif op == "Log":
                y = tf.math.log(x[0])
            elif op == "Relu":
                y = tf.nn.relu(x[0])
            elif op == "ReduceMean":
                axes = [int(i) for i in initializers[node.input[1]]] if len(x) > 1 else a["axes"]
                y = tf.reduce_mean(x[0], axis=axes, keepdims=bool(a.get("keepdims", 1)))
            elif op == "BatchNormalization":
                gamma, beta, mean, var = (initializers[n] for n in node.input[1:5])
                scale = (gamma / np.sqrt(var + a.get("epsilon", 1e-5))).astype(np.float32)
                shift = (beta - mean * scale).astype(np.float32)
                y = x[0] * scale[:, None] + shift[:, None]  # channels on axis 1
            elif op == "Gemm":
                if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                    raise SystemExit(f"unsupported Gemm {a}")
                y = tf.matmul(x[0], x[1], transpose_b=bool(a.get("transB", 0))) + x[2]
            v[node.output[0]] = y
        return v[graph.output[0].name]

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="audio")])
    def serve(audio: tf.Tensor) -> dict:
        return {"logits": run(audio)}

    return serve


def convert(args: argparse.Namespace) -> None:
    import tensorflow as tf

    serve = build_tf_function(args.onnx)
    module = tf.Module()
    module.serve = serve  # with a trackable object the .tflite gets a signature: serving_default(audio) -> logits
    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # float32, builtin ops only
    tflite = converter.convert()
    args.tflite.write_bytes(tflite)
    args.tflite.chmod(0o644)

    # Quick self-check with TensorFlow's own interpreter (the real check is `verify`, with LiteRT).
    interp = tf.lite.Interpreter(model_content=tflite)
    inp = interp.get_input_details()[0]
    interp.resize_tensor_input(inp["index"], [2, 12000])
    interp.allocate_tensors()
    x = np.random.default_rng(0).normal(0, 0.1, (2, 12000)).astype(np.float32)
    interp.set_tensor(inp["index"], x)
    interp.invoke()
    out = interp.get_tensor(interp.get_output_details()[0]["index"])
    ref = serve(tf.constant(x))["logits"].numpy()
    print(
        f"wrote {args.tflite} ({len(tflite):,} bytes) from {args.onnx}; TF vs TFLite max abs diff "
        f"{np.abs(out - ref).max():.2e} on [2, 12000]; tensorflow {tf.__version__}"
    )


# --------------------------------------------------------------------------- verify (freqrex-bench venv)


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def describe(details: dict) -> dict:
    return {
        "name": details["name"],
        "index": int(details["index"]),
        "shape": details["shape"].tolist(),
        "shape_signature": details["shape_signature"].tolist(),
        "dtype": np.dtype(details["dtype"]).name,
    }


def verify(args: argparse.Namespace) -> None:
    import onnxruntime
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    session = onnxruntime.InferenceSession(str(args.onnx), providers=["CPUExecutionProvider"])

    def run_onnx(x: np.ndarray) -> np.ndarray:
        return session.run(["logits"], {"audio": x})[0]

    # LiteRT's default interpreter runs float convolutions through the XNNPACK delegate; the builtin
    # kernels without any delegate are the other common setting. Both are compared with onnxruntime.
    resolvers = {
        "default (XNNPACK delegate)": OpResolverType.AUTO,
        "builtin kernels, no delegate": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    }
    probe = Interpreter(model_path=str(args.tflite))
    report: dict = {
        "tflite": args.tflite.name,
        "tflite_bytes": args.tflite.stat().st_size,
        "input": describe(probe.get_input_details()[0]),
        "output": describe(probe.get_output_details()[0]),
        "signatures": probe.get_signature_list(),
        "atol": args.atol,
        "interpreters": {},
    }
    clips = []
    if args.data is not None:
        import soundfile as sf

        paths = sorted(args.data.glob(f"*_{args.holdout}_*.wav"))
        if not paths:
            raise SystemExit(f"no *_{args.holdout}_*.wav clips in {args.data}")
        clips = [(int(p.name.split("_")[0]), sf.read(p, dtype="float32")[0][None]) for p in paths]

    for label, resolver in resolvers.items():
        interp = Interpreter(model_path=str(args.tflite), experimental_op_resolver_type=resolver)
        inp, out = interp.get_input_details()[0], interp.get_output_details()[0]

        def run_tflite(x: np.ndarray, interp=interp, inp=inp, out=out) -> np.ndarray:
            interp.resize_tensor_input(inp["index"], list(x.shape), strict=False)  # any [N, L]
            interp.allocate_tensors()
            interp.set_tensor(inp["index"], x)
            interp.invoke()
            return interp.get_tensor(out["index"]).copy()

        rng = np.random.default_rng(0)
        checks = []
        for b, n in ((1, 1), (1, 1600), (1, 4000), (1, 8000), (1, 12000), (4, 8000), (8, 3000), (3, 20000)):
            x = rng.normal(0, 0.1, (b, n)).astype(np.float32)
            t, o = run_tflite(x), run_onnx(x)
            checks.append(
                {
                    "batch": b,
                    "length": n,
                    "output_shape": list(t.shape),
                    "max_abs_logit_diff": float(np.abs(t - o).max()),
                    "max_abs_softmax_diff": float(np.abs(softmax(t) - softmax(o)).max()),
                }
            )
        result: dict = {"random_inputs": checks}

        # The signature runner gives the same numbers under the names audio/logits (a separate
        # interpreter: the runner's outputs may keep references to the interpreter's buffers).
        runner = Interpreter(model_path=str(args.tflite), experimental_op_resolver_type=resolver).get_signature_runner()
        x = rng.normal(0, 0.1, (2, 6000)).astype(np.float32)
        sig = runner(audio=x)["logits"].copy()
        result["signature_runner"] = {
            "batch": 2,
            "length": 6000,
            "max_abs_logit_diff": float(np.abs(sig - run_onnx(x)).max()),
        }

        if clips:
            logit_diff = soft_diff = 0.0
            same = correct = 0
            for digit, wave in clips:
                t, o = run_tflite(wave), run_onnx(wave)
                logit_diff = max(logit_diff, float(np.abs(t - o).max()))
                soft_diff = max(soft_diff, float(np.abs(softmax(t) - softmax(o)).max()))
                same += int(t.argmax() == o.argmax())
                correct += int(t.argmax() == digit)
            result["heldout_clips"] = {
                "speaker": args.holdout,
                "n": len(clips),
                "max_abs_logit_diff": logit_diff,
                "max_abs_softmax_diff": soft_diff,
                "top1_agreement": same / len(clips),
                "tflite_accuracy": correct / len(clips),
            }
        rows = checks + [result["signature_runner"]] + ([result["heldout_clips"]] if clips else [])
        result["max_abs_logit_diff"] = max(r["max_abs_logit_diff"] for r in rows)
        result["max_abs_softmax_diff"] = max(r.get("max_abs_softmax_diff", 0.0) for r in rows)
        report["interpreters"][label] = result

    # freqrex-bench turns logits into scores with a softmax (output: logits), so scores are what must agree.
    report["ok"] = all(r["max_abs_softmax_diff"] <= args.atol for r in report["interpreters"].values())
    print(json.dumps(report, indent=2))
    if not report["ok"]:
        sys.exit(1)


def main() -> None:
    args = parse_args()
    convert(args) if args.step == "convert" else verify(args)


if __name__ == "__main__":
    main()
