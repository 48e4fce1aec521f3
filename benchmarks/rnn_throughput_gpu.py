"""GPU training-step throughput of the project's LSTM and GRU against cuDNN (PyTorch) and Keras on JAX.

The issue's GPU goal: the standard LSTM and GRU at cuDNN speed. This machine-independent script is
meant for a GPU machine without TensorFlow: Keras runs on the JAX backend there, so the peers are
``torch.nn.LSTM`` / ``torch.nn.GRU`` (cuDNN) and ``keras.layers.LSTM`` / ``GRU`` on JAX (Keras's LSTM
goes to cuDNN through jax.experimental.rnn in float32 and fails in bfloat16; its GRU has no cuDNN
path on JAX). Same model for everyone: the recurrent layer, Dense(1) on the last output, MSE,
Adam, one training step at a time (``train_on_batch`` for Keras, a plain PyTorch step for torch).
B=64 sequences of T=100 steps, 128 inputs, 256 units by default; runs interleaved, median over
repeats. float32 (TF32 where the frameworks use it by default: cuDNN RNNs and XLA matmuls) and,
with ``--mixed``, bfloat16 (Keras "mixed_bfloat16", torch.autocast(bfloat16)).

A second set of rows times the recurrent layer alone (forward and backward, no optimizer) against
cuDNN's forward and backward alone.

Before timing it checks on this backend that the hand-written BPTT gives the gradients of autodiff
through the generic loop (max abs difference printed).

Usage: KERAS_BACKEND=jax python benchmarks/rnn_throughput_gpu.py [--repeats 10] [--steps 5] [--mixed]
"""

import argparse
import os
import pathlib
import statistics
import sys
import time
import types

os.environ.setdefault("KERAS_BACKEND", "jax")
# Import the layers from this checkout without installing it (the GPU machine has no TensorFlow
# and no network): seqrecipes.layers is the repository's layers/ folder, as setup.cfg maps it.
if "seqrecipes" not in sys.modules:
    try:
        import seqrecipes.layers  # noqa: F401
    except ImportError:
        root = pathlib.Path(__file__).resolve().parents[1]
        package = types.ModuleType("seqrecipes")
        package.__path__ = [str(root / "seqrecipes"), str(root)]
        sys.modules["seqrecipes"] = package

import keras  # noqa: E402
import numpy as np  # noqa: E402

try:
    import torch
except ImportError:  # the Keras rows still run (a smoke test on a machine without torch)
    torch = None

from seqrecipes import layers  # noqa: E402
from seqrecipes.layers import rnn as rnn_module  # noqa: E402


def autodiff(layer):
    layer.hand_written_bptt = False
    return layer


def keras_candidates(units, unrolls):
    """name -> (factory, peer kind, scan unroll)."""
    specs = {
        "keras.LSTM (JAX)": (lambda: keras.layers.LSTM(units), "lstm", None),
        "keras.GRU (JAX)": (lambda: keras.layers.GRU(units), "gru", None),
        "LSTM": (lambda: layers.LSTM(units), "lstm", None),
        "GRU": (lambda: layers.GRU(units), "gru", None),
        "LSTM (autodiff BPTT)": (lambda: autodiff(layers.LSTM(units)), "lstm", None),
        "GRU (autodiff BPTT)": (lambda: autodiff(layers.GRU(units)), "gru", None),
    }
    for unroll in unrolls:
        specs[f"LSTM [unroll={unroll}]"] = (lambda: layers.LSTM(units), "lstm", unroll)
        specs[f"GRU [unroll={unroll}]"] = (lambda: layers.GRU(units), "gru", unroll)
    return specs


class KerasRun:
    def __init__(self, factory, unroll, x, y, policy):
        keras.config.set_dtype_policy(policy)
        saved = rnn_module.SCAN_UNROLL
        if unroll is not None:
            rnn_module.SCAN_UNROLL = unroll  # read when the training step is traced, just below
        try:
            keras.utils.set_random_seed(0)
            inputs = keras.Input(x.shape[1:])
            outputs = keras.layers.Dense(1, dtype="float32")(factory()(inputs))
            self.model = keras.Model(inputs, outputs)
            self.model.compile(optimizer="adam", loss="mse")
            self.x, self.y = x, y
            self.step()
            self.step()
        finally:
            rnn_module.SCAN_UNROLL = saved
            keras.config.set_dtype_policy("float32")

    def step(self):
        return float(self.model.train_on_batch(self.x, self.y))  # a float: waits for the device


class TorchRun:
    def __init__(self, kind, x, y, units, autocast):
        torch.manual_seed(0)
        cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
        self.rnn = cls(x.shape[-1], units, batch_first=True).cuda()
        self.head = torch.nn.Linear(units, 1).cuda()
        params = list(self.rnn.parameters()) + list(self.head.parameters())
        self.optimizer = torch.optim.Adam(params)
        self.x, self.y = torch.tensor(x).cuda(), torch.tensor(y).cuda()
        self.autocast = autocast
        self.step()
        self.step()

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.autocast):
            out, _ = self.rnn(self.x)
            pred = self.head(out[:, -1])
        loss = torch.nn.functional.mse_loss(pred.float(), self.y)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())  # waits for the device


class KerasLayerOnly:
    """Forward and backward of the recurrent layer alone (loss = sum of its last output), jitted."""

    def __init__(self, factory, x, policy):
        import jax

        keras.config.set_dtype_policy(policy)
        try:
            # A one-layer model: its stateless_call runs the layer's __call__, which autocasts.
            layer = keras.Sequential([keras.Input(x.shape[1:]), factory()])
        finally:
            keras.config.set_dtype_policy("float32")
        ntv = [v.value for v in layer.non_trainable_variables]

        def loss(tv, x):
            out, _ = layer.stateless_call(tv, ntv, x)
            return out.astype("float32").sum()

        self.grad = jax.jit(jax.value_and_grad(loss))
        self.tv = [v.value for v in layer.trainable_variables]
        self.x = jax.numpy.asarray(x)
        self.step()
        self.step()

    def step(self):
        value, grads = self.grad(self.tv, self.x)
        return float(value)  # waits for the device


class TorchLayerOnly:
    """Forward and backward of torch.nn.LSTM / GRU alone (cuDNN), loss = sum of the last output."""

    def __init__(self, kind, x, units, autocast):
        torch.manual_seed(0)
        cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
        self.rnn = cls(x.shape[-1], units, batch_first=True).cuda()
        self.x = torch.tensor(x).cuda()
        self.autocast = autocast
        self.step()
        self.step()

    def step(self):
        self.rnn.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.autocast):
            out, _ = self.rnn(self.x)
        loss = out[:, -1].float().sum()
        loss.backward()
        return float(loss.detach())  # waits for the device


def gradient_check(units=16):
    """Max abs difference between the hand-written and the autodiff gradients, on JAX (LSTM, GRU and
    the peephole, layer-normalised and CIFG LSTM cells)."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 7, 5)).astype("float32")
    mask = np.arange(7)[None, :] < np.array([7, 3, 5, 6])[:, None]
    worst = 0.0
    outputs = dict(return_sequences=True, return_state=True)
    makers = [lambda: layers.LSTM(units, **outputs), lambda: layers.GRU(units, **outputs)]
    for cell in (layers.PeepholeLSTMCell, layers.LayerNormLSTMCell, layers.CIFGLSTMCell):
        makers.append(lambda cell=cell: layers.RNN(cell(units), **outputs))
    for make in makers:
        fast, generic = make(), autodiff(make())
        fast(x), generic(x)
        fast.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in fast.get_weights()])
        generic.set_weights(fast.get_weights())
        grads = []
        for layer in (fast, generic):
            ntv = [v.value for v in layer.non_trainable_variables]

            def loss(tv, x):
                outs, _ = layer.stateless_call(tv, ntv, x, mask=mask)
                return sum(jnp.sum(o * (i + 1.0) * jnp.sin(jnp.arange(o.size).reshape(o.shape))) for i, o in enumerate(outs))

            tv = [v.value for v in layer.trainable_variables]
            g = jax.jit(jax.grad(loss, argnums=(0, 1)))(tv, jnp.asarray(x))
            grads.append(jax.tree_util.tree_leaves(g))
        worst = max(worst, max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(*grads)))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--steps", type=int, default=5, help="training steps timed per run")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--time", type=int, default=100)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--mixed", action="store_true", help="also bfloat16")
    parser.add_argument("--unrolls", default="", help="extra scan unroll settings to time, e.g. 1,8")
    args = parser.parse_args()
    B, T, D, H = args.batch, args.time, args.features, args.units
    cuda = torch is not None and torch.cuda.is_available()
    print(f"keras {keras.__version__} on {keras.backend.backend()}, devices {keras.config.backend() == 'jax' and __import__('jax').devices()}")
    if cuda:
        print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}, cudnn allow_tf32={torch.backends.cudnn.allow_tf32}")
    print(f"B={B} T={T} D={D} H={H}")
    import jax

    with jax.default_matmul_precision("highest"):  # full float32 matmuls: the sums differ only in order
        print(f"gradient check, hand-written vs autodiff BPTT on jax, float32 (LSTM, GRU, peephole, layer-norm, CIFG): max abs diff {gradient_check():.2e}")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, D)).astype("float32")
    y = rng.standard_normal((B, 1)).astype("float32")
    unrolls = [int(u) for u in args.unrolls.split(",") if u]
    runs, peers = {}, {}
    for precision in ["float32"] + (["bfloat16"] if args.mixed else []):
        policy = "float32" if precision == "float32" else "mixed_bfloat16"
        for kind in ("lstm", "gru"):
            name = f"torch cuDNN {kind.upper()} [{precision}]"
            if not cuda:
                print(f"{name}: not measured, no CUDA torch here")
                continue
            try:
                runs[name] = TorchRun(kind, x, y, H, autocast=precision != "float32")
            except RuntimeError as error:
                print(f"{name}: not measured ({error})")
        for name, (factory, kind, unroll) in keras_candidates(H, unrolls if precision == "float32" else []).items():
            full = f"{name} [{precision}]"
            start = time.perf_counter()
            try:
                runs[full] = KerasRun(factory, unroll, x, y, policy)
            except ValueError as error:  # Keras's LSTM on JAX GPU goes to cuDNN, which lacks bfloat16
                print(f"{full}: not measured ({str(error).splitlines()[-1]})")
                continue
            print(f"built and compiled {full} in {time.perf_counter() - start:.1f} s", flush=True)
            peers[full] = (f"torch cuDNN {kind.upper()} [{precision}]", f"keras.{kind.upper()} (JAX) [{precision}]")
        # The recurrent layer alone, forward and backward: no optimizer, no PyTorch eager overhead
        # beyond one autograd call, so closer to what cuDNN's kernels themselves take.
        for kind, ours in (("lstm", lambda: layers.LSTM(H)), ("gru", lambda: layers.GRU(H))):
            cudnn = f"layer only: torch cuDNN {kind.upper()} [{precision}]"
            if cuda:
                runs[cudnn] = TorchLayerOnly(kind, x, H, autocast=precision != "float32")
            full = f"layer only: {kind.upper()} [{precision}]"
            runs[full] = KerasLayerOnly(ours, x, policy)
            peers[full] = (cudnn,)

    times = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                run.step()
            times[name].append((time.perf_counter() - start) / args.steps)
    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"{args.repeats} interleaved repeats of {args.steps} steps")
    print(f"{'layer':<36}{'step ms':>9}{'tokens/s':>11}  ratios (peer time / this time)")
    for name in runs:
        ratios = ""
        if name in peers:
            ratios = ", ".join(f"{median[p] / median[name]:.2f}x {p}" for p in peers[name] if p in median and p != name)
        print(f"{name:<36}{median[name] * 1e3:>9.2f}{B * T / median[name]:>11.0f}  {ratios}")

    for precision in ["float32"] + (["bfloat16"] if args.mixed else []):
        for kind in ("LSTM", "GRU"):
            ours, cudnn, theirs = f"{kind} [{precision}]", f"torch cuDNN {kind} [{precision}]", f"keras.{kind} (JAX) [{precision}]"
            if cudnn in median:
                ratio = median[cudnn] / median[ours]
                print(f"goal {kind.lower()}_cudnn_speed_{precision}: {ratio:.2f}x (target at least 1.0x torch cuDNN {kind}) {'met' if ratio >= 1.0 else 'not met'}")
                alone = median[f"layer only: torch cuDNN {kind} [{precision}]"] / median[f"layer only: {kind} [{precision}]"]
                print(f"goal {kind.lower()}_cudnn_speed_layer_only_{precision}: {alone:.2f}x (target at least 1.0x torch cuDNN {kind}, forward+backward alone) {'met' if alone >= 1.0 else 'not met'}")
            else:
                print(f"goal {kind.lower()}_cudnn_speed_{precision}: not measured (target at least 1.0x torch cuDNN {kind}) not met")
            if theirs not in median:
                print(f"goal {kind.lower()}_vs_keras_jax_{precision}: not measured (target at least 1.0x keras.{kind} on JAX) not met")
                continue
            ratio = median[theirs] / median[ours]
            print(f"goal {kind.lower()}_vs_keras_jax_{precision}: {ratio:.2f}x (target at least 1.0x keras.{kind} on JAX) {'met' if ratio >= 1.0 else 'not met'}")


if __name__ == "__main__":
    main()
