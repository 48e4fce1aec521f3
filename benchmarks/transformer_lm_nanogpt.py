"""``transformer_language_model`` against nanoGPT's CPU configuration, trained side by side on one character corpus.

nanoGPT's CPU run (README, "I only have a macbook"; config/train_shakespeare_char.py with its overrides): 4 layers,
4 heads, width 128, context 64, batch 12, 2,000 iterations, learning rate 1e-3 warmed up linearly over 100 iterations
then cosine to 1e-4 at 2,000, AdamW (beta2 0.99, weight decay 0.1 on the 2-D weights only, fused off), gradient
clipping at 1.0, dropout 0. The PyTorch peer below is written after nanoGPT's model.py (``GPT``, ``Block``,
``CausalSelfAttention`` with ``scaled_dot_product_attention(is_causal=True)``, ``MLP`` 4x with GELU, ``LayerNorm``
with bias, weight tying ``lm_head.weight = wte.weight``, N(0, 0.02) init with c_proj at 0.02 / sqrt(2 n_layer),
``configure_optimizers``) and train.py (``get_batch``, ``get_lr``, the training step); bias=True, as GPT-2 and the
Keras blocks have biases.

Corpus: the first ``--chars`` characters (default 1,000,000) of WikiText-2 raw (``valid.txt`` then ``test.txt``
of ``--data``, default ``../shared/data``), characters as tokens (``data.CharTokenizer``), 90/10 split as nanoGPT's
prepare.py. Batches: nanoGPT's ``get_batch``, B=12 random windows of T+1=65 ids (x = first 64, y = last 64), drawn
once from a seeded NumPy generator, so both models see the identical batch at every iteration; the validation loss
is the mean cross-entropy over 50 fixed validation batches drawn the same way.

Keras side: the recipe as it is (``transformer_language_model(...)``, compiled by the recipe: AdamW with the cosine
schedule, masked cross-entropy, perplexity and accuracy metrics, jit_compile=True as the recipe sets it), trained
with ``model.fit`` over a ``tf.data`` of the batches, ``steps_per_epoch`` = one chunk, with tf.data's autotuning off
(the batches are in memory; on this 2-core machine the autotuner's background thread cut about every other ``fit``
call to 0.6x). Both sides run on the same number of threads (``--threads``, default 2). Training alternates chunks
(``--chunk`` iterations of Keras, then the same iterations of PyTorch), so machine noise hits both; iterations per
second are counted over every chunk but each side's first (it holds Keras' graph tracing and PyTorch's warm-up); the
totals with the first chunks are printed too.

Usage: python benchmarks/transformer_lm_nanogpt.py [--iterations 2000] [--chunk 100] [--data ../shared/data]
The last two lines are the goals: ``goal gpt_iterations_per_second: ...`` and ``goal gpt_validation_loss: ...``.
"""

import argparse
import math
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from seqrecipes import data  # noqa: E402
from seqrecipes.recipes.many_to_many.transformer_language_model import transformer_language_model  # noqa: E402

CONFIG = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, learning_rate=1e-3, min_lr=1e-4,
              warmup_iters=100, weight_decay=0.1, beta1=0.9, beta2=0.99, grad_clip=1.0, dropout=0.0)  # fmt: skip
VAL_BATCHES = 50


# ------------------------------------------------------------------------------------------------
# The PyTorch peer, after nanoGPT's model.py.


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)  # key, query, value projections for all heads, in a batch
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head, self.n_embd = n_head, n_embd

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble all head outputs side by side
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, eps=1e-5)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln_2 = nn.LayerNorm(n_embd, eps=1e-5)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.h = nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd, eps=1e-5)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2's scaled init of the residual projections
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]  # fmt: skip
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas, fused=False)


def get_lr(it, iterations, c=CONFIG):
    """nanoGPT train.py's schedule (lr_decay_iters = the iterations)."""
    if it < c["warmup_iters"]:
        return c["learning_rate"] * it / c["warmup_iters"]
    if it > iterations:
        return c["min_lr"]
    ratio = (it - c["warmup_iters"]) / (iterations - c["warmup_iters"])
    return c["min_lr"] + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (c["learning_rate"] - c["min_lr"])


class TorchTrainer:
    def __init__(self, vocab_size, iterations, seed):
        torch.manual_seed(seed)
        c = CONFIG
        self.model = GPT(vocab_size, c["block_size"], c["n_layer"], c["n_head"], c["n_embd"])
        self.optimizer = self.model.configure_optimizers(c["weight_decay"], c["learning_rate"], (c["beta1"], c["beta2"]))
        self.iterations, self.it = iterations, 0

    def train(self, X, Y):
        self.model.train()
        losses = []
        for x, y in zip(X, Y):
            lr = get_lr(self.it, self.iterations)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            loss = self.model(torch.from_numpy(x), torch.from_numpy(y))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), CONFIG["grad_clip"])
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.it += 1
            losses.append(loss.detach())
        return float(torch.stack(losses).mean())  # the chunk's mean, as Keras' history gives it

    @torch.no_grad()
    def val_loss(self, X, Y):
        self.model.eval()
        return float(np.mean([float(self.model(torch.from_numpy(x), torch.from_numpy(y))) for x, y in zip(X, Y)]))


# ------------------------------------------------------------------------------------------------


def corpus(folder, chars):
    """(train ids, val ids, tokenizer): the first ``chars`` characters of WikiText-2 raw, 90/10."""
    wikitext = pathlib.Path(folder) / "wikitext-2"
    text = "".join((wikitext / name).read_text(encoding="utf-8") for name in ("valid.txt", "test.txt"))[:chars]
    tokenizer = data.CharTokenizer().adapt([text])
    vocabulary = tokenizer.get_vocabulary()
    index = {c: i for i, c in enumerate(vocabulary) if i >= 4}
    ids = np.array([index.get(c, 1) for c in text], np.int64)
    n = int(0.9 * len(ids))
    return ids[:n], ids[n:], tokenizer


def get_batches(ids, count, rng, B=CONFIG["batch_size"], T=CONFIG["block_size"]):
    """nanoGPT's get_batch ``count`` times: x, y (count, B, T) int64, y = x shifted by one."""
    starts = rng.integers(0, len(ids) - T, size=(count, B))
    windows = ids[starts[..., None] + np.arange(T + 1)]  # (count, B, T + 1)
    return np.ascontiguousarray(windows[..., :-1]), np.ascontiguousarray(windows[..., 1:])


def keras_model(tokenizer, iterations):
    c = CONFIG
    return transformer_language_model(
        num_layers=c["n_layer"], num_heads=c["n_head"], hidden_dim=c["n_embd"], dropout=c["dropout"],
        max_length=c["block_size"], learning_rate=c["learning_rate"], min_learning_rate=c["min_lr"],
        warmup_steps=c["warmup_iters"], decay_steps=iterations, weight_decay=c["weight_decay"], beta_2=c["beta2"],
        clipnorm=c["grad_clip"], text_tokenizer=tokenizer,
    )  # fmt: skip


def keras_train(model, X, Y):
    batches = tf.data.Dataset.from_tensor_slices((X.astype("int32"), Y.astype("int32")))
    options = tf.data.Options()
    options.autotune.enabled = False  # on 2 cores the autotuner's thread halves the rate of about every other fit call
    batches = batches.with_options(options)
    history = model.fit(batches, epochs=1, steps_per_epoch=len(X), verbose=0)
    return history.history["loss"][-1]


def keras_val_loss(model, X, Y):
    flat = X.reshape(-1, X.shape[-1]).astype("int32"), Y.reshape(-1, Y.shape[-1]).astype("int32")
    return model.evaluate(*flat, batch_size=X.shape[1], verbose=0, return_dict=True)["loss"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--data", default=str(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)

    train_ids, val_ids, tokenizer = corpus(args.data, args.chars)
    rng = np.random.default_rng(args.seed)
    X, Y = get_batches(train_ids, args.iterations, rng)
    X_val, Y_val = get_batches(val_ids, VAL_BATCHES, rng)
    vocabulary_size = tokenizer.vocabulary_size()
    print(f"corpus: WikiText-2 raw, {len(train_ids) + len(val_ids):,} characters ({len(train_ids):,} train, "
          f"{len(val_ids):,} val), vocabulary {vocabulary_size} (4 reserved ids + characters)")  # fmt: skip
    print(f"config: {CONFIG}, iterations {args.iterations}, chunks of {args.chunk}, {args.threads} threads each")

    keras.utils.set_random_seed(args.seed)
    model = keras_model(tokenizer, args.iterations)
    peer = TorchTrainer(vocabulary_size, args.iterations, args.seed)
    print(f"parameters: keras {model.count_params():,}, torch {sum(p.numel() for p in peer.model.parameters()):,}")

    times = {"keras": [], "torch": []}
    for start in range(0, args.iterations, args.chunk):
        x, y = X[start : start + args.chunk], Y[start : start + args.chunk]
        t0 = time.perf_counter()
        keras_loss = keras_train(model, x, y)
        t1 = time.perf_counter()
        torch_loss = peer.train(x, y)
        t2 = time.perf_counter()
        times["keras"].append((len(x), t1 - t0))
        times["torch"].append((len(x), t2 - t1))
        print(f"iter {start + len(x):5d}: chunk mean train loss keras {keras_loss:.4f} torch {torch_loss:.4f}; "
              f"chunk {len(x) / (t1 - t0):6.2f} it/s keras, {len(x) / (t2 - t1):6.2f} it/s torch", flush=True)  # fmt: skip

    def rate(chunks):
        return sum(n for n, _ in chunks) / sum(s for _, s in chunks)

    steady = {side: rate(chunks[1:] or chunks) for side, chunks in times.items()}
    total = {side: rate(chunks) for side, chunks in times.items()}
    keras_val, torch_val = keras_val_loss(model, X_val, Y_val), peer.val_loss(X_val, Y_val)
    ratio, difference = steady["keras"] / steady["torch"], keras_val - torch_val
    print(f"iterations per second (first chunk left out): keras {steady['keras']:.2f}, torch {steady['torch']:.2f}")
    print(f"iterations per second (all chunks): keras {total['keras']:.2f}, torch {total['torch']:.2f}")
    print(f"validation loss ({VAL_BATCHES} batches): keras {keras_val:.4f}, torch {torch_val:.4f}")
    print(f"goal gpt_iterations_per_second: {ratio:.2f}x (target >= 1.0x nanoGPT) {'met' if ratio >= 1.0 else 'not met'}")
    met = abs(difference) <= 0.03
    print(f"goal gpt_validation_loss: {difference:+.4f} nats (target within 0.03 of nanoGPT) {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
