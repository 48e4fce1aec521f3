"""``seq2seq_attention`` (Bahdanau, bidirectional GRU) against bentrevett's PyTorch tutorial 3: training speed.

The peer is bentrevett's pytorch-seq2seq notebook "3 - Neural Machine Translation by Jointly Learning to Align
and Translate" (``Encoder``, ``Attention``, ``Decoder``, ``Seq2Seq``, ``init_weights``, ``train``), written below
as it is there: an Embedding and a bidirectional GRU encoder, s_0 = tanh(fc([h_fwd ; h_bwd])), the additive
score v^T tanh(attn([s_{i-1} ; h_j])), a GRU decoder fed [d(y_{i-1}) ; w_i], and ``fc_out`` on
[s_i ; w_i ; d(y_{i-1})]; dropout 0.5 on the embeddings, weights N(0, 0.01) and biases 0, Adam (1e-3),
``CrossEntropyLoss(ignore_index=pad)``, ``clip_grad_norm_`` 1.0, ``loss.item()`` every step, and
``teacher_forcing_ratio`` 1 (always the true y_{i-1}, like our teacher-forced training model). Only its
``assert (output == hidden).all()`` at every decoder step is left out (a check, not the model; leaving it
out can only make the peer faster).

Ours: ``recipes.seq2seq_attention(cell="gru", bidirectional=True, attention="bahdanau", units=U,
embedding_dim=E, dropout=0.5, learning_rate=1e-3, clipnorm=1.0)`` as the recipe compiles it (Adam with global
clipping, masked sparse cross-entropy, the token-accuracy metric; jit_compile "auto", which Keras turns off on
a machine without an accelerator), trained with ``model.fit`` over a ``tf.data`` of the batches padded by
``data.batch_with_padding`` (what ``data.seq2seq_batches`` does after tokenizing), with tf.data's autotuning
off as in benchmarks/transformer_lm_nanogpt.py (on 2 cores its background thread slows every other fit call).
PyTorch runs on 2 threads (``torch.set_num_threads(2)``); TensorFlow keeps its defaults. Run it on an
otherwise idle machine: with another process on the 2 cores PyTorch slows down far more than TensorFlow (at
the --quick sizes its step took 0.6 s in some runs and over 6 s in others on the same batches, likely its
OpenMP threads waiting for each other at every op); the config line prints the load average at the start.

Sizes: E (``--embedding-dim``, 256) and U (``--units``, 512) as bentrevett's (embeddings 256, GRUs of 512).
Our encoder has U/2 per direction (outputs of size U), so the peer gets enc_hid_dim = U/2 and dec_hid_dim = U:
its encoder outputs, decoder state and attention layer then have our sizes (bentrevett's own encoder has 512
per direction). Both vocabularies 8000, batches of 128.

Data, made here (no files): sentence pairs whose lengths are drawn like Multi30k's (German about 12, English
about 13 tokens on average, at most 40; the two lengths of a pair correlated), token ids drawn from a Zipf
law over the 8000-id vocabulary, and batched like torchtext's ``BucketIterator`` (pools of 100 batches sorted
by length, cut into batches of 128, shuffled), each batch padded to its longest. The source is the tokens
alone (our pipeline's source; bentrevett's Field would add <sos> and <eos>); the target is
[START] y_1 .. y_n [END]: bentrevett's ``trg``, and our ``target_in`` = [START] y and targets y [END]. Both
sides train on the same batches in the same order: a warm-up (Keras' tracing, PyTorch's first steps), then
``--rounds`` rounds of ``--steps`` steps of each side, the order of the sides rotated each round. Speed is in
target tokens per second (the non-padding targets, [END] counted, the tokens the loss is taken over); the
ratio ours/PyTorch is the median over rounds of each round's ratio (both sides ran the same batches in it).

Structural differences that remain (ours vs bentrevett's):
- the decoder's s_0 is the encoder's final states [h_fwd ; h_bwd] as they are; bentrevett passes them through
  fc (a U x U Linear) and tanh first;
- the score: ours v^T tanh(W s_{i-1} + U h_j) without a bias, U h_j computed once per batch; bentrevett's
  ``attn`` Linear (with a bias) on the concatenation [s_{i-1} ; h_j] for every j at every step, which applies
  the encoder half again at each step (S times the matmul work);
- the output layer: ours is Bahdanau's deep output, a maxout t_i = max over pairs of W_o'[y_{i-1} ; s_i ; c_i]
  (E + 2U -> 2U -> U) inside the loop, then the logits (U -> V) on all steps at once after it; bentrevett's
  ``fc_out`` goes from [s_i ; w_i ; d(y_{i-1})] (2U + E) straight to V inside the loop, a 2.5x larger matmul
  per token at E=256, U=512;
- masking: ours carries the encoder's and the decoder's states over padded steps and gives padded source
  positions no attention; bentrevett's tutorial 3 runs over the padding and attends to it (its tutorial 4
  adds packing and masking). Both losses leave padded targets out;
- ours also drops out the decoder outputs t_i before the logits (the recipe's output dropout) and computes
  the token accuracy every step;
- initial weights (Keras' Glorot and orthogonal; bentrevett's N(0, 0.01)): no bearing on speed.
The table prints each model's parameters and an estimate of its matmul work per training step (3x the
forward matmul FLOPs, from the batch sizes), so the speed ratio can be read against the work ratio. Its
informational row "tuned" (``TunedSeq2Seq``, not in the goal) is bentrevett's model, the same function and
weights (checked at start: the same logits), with three costs of his loop removed: attn's encoder half applied
once per batch, the step predictions stacked at the end rather than copied into a preallocated (T + 1, B, V)
tensor (autograd's CopySlices then copies the whole tensor's gradient once per step), and no argmax of the
predictions; it shows how much of the ratio is the tutorial's loop rather than the architecture.

Usage: python benchmarks/seq2seq_pytorch.py [--units 512] [--embedding-dim 256] [--rounds 3] [--steps 10]
       python benchmarks/seq2seq_pytorch.py --quick     # a smoke run, small sizes, about a minute
The last line is the goal: ``goal bahdanau_training_speed_vs_pytorch: <ratio>x (target >= 1.0x ...) met``.
"""

import argparse
import os
import random
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from seqrecipes import data, recipes  # noqa: E402
from seqrecipes.data import END_ID, PAD_ID, START_ID  # noqa: E402

BATCH_SIZE = 128
DROPOUT = 0.5  # bentrevett's ENC_DROPOUT and DEC_DROPOUT; experiments/multi30k.py uses it too
LEARNING_RATE = 1e-3  # torch.optim.Adam's default, which bentrevett uses
CLIP = 1.0
POOL_BATCHES = 100  # torchtext's BucketIterator sorts pools of 100 batches by length
MAX_LENGTH = 40
SOURCE_MEAN, TARGET_MEAN = 12.0, 13.0  # Multi30k train, spaCy tokens: German about 12, English about 13
QUICK = dict(units=64, embedding_dim=32, rounds=2, steps=2, warmup=2)


# ------------------------------------------------------------------------------------------------
# The PyTorch peer, after bentrevett's tutorial 3 (sequence-first tensors, as there).


class Encoder(nn.Module):
    def __init__(self, input_dim, emb_dim, enc_hid_dim, dec_hid_dim, dropout):
        super().__init__()
        self.embedding = nn.Embedding(input_dim, emb_dim)
        self.rnn = nn.GRU(emb_dim, enc_hid_dim, bidirectional=True)
        self.fc = nn.Linear(enc_hid_dim * 2, dec_hid_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src):
        embedded = self.dropout(self.embedding(src))  # (S, B, E)
        outputs, hidden = self.rnn(embedded)  # (S, B, 2 enc_hid), (2, B, enc_hid)
        hidden = torch.tanh(self.fc(torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)))  # (B, dec_hid)
        return outputs, hidden


class Attention(nn.Module):
    def __init__(self, enc_hid_dim, dec_hid_dim):
        super().__init__()
        self.attn = nn.Linear((enc_hid_dim * 2) + dec_hid_dim, dec_hid_dim)
        self.v = nn.Linear(dec_hid_dim, 1, bias=False)
        self.dec_hid_dim = dec_hid_dim

    def forward(self, hidden, encoder_outputs):
        src_len = encoder_outputs.shape[0]
        hidden = hidden.unsqueeze(1).repeat(1, src_len, 1)  # (B, S, dec_hid)
        encoder_outputs = encoder_outputs.permute(1, 0, 2)  # (B, S, 2 enc_hid)
        energy = torch.tanh(self.attn(torch.cat((hidden, encoder_outputs), dim=2)))  # (B, S, dec_hid)
        attention = self.v(energy).squeeze(2)  # (B, S)
        return F.softmax(attention, dim=1)

    # Not bentrevett's (the "tuned" row): attn's columns for h_j, with its bias, applied once per batch;
    # then each step adds only attn's columns for s_{i-1}. The same function and weights.
    def keys(self, encoder_outputs):
        W_h = self.attn.weight[:, self.dec_hid_dim :]  # (dec_hid, 2 enc_hid)
        return torch.matmul(encoder_outputs.permute(1, 0, 2), W_h.t()) + self.attn.bias  # (B, S, dec_hid)

    def from_keys(self, hidden, keys):
        W_s = self.attn.weight[:, : self.dec_hid_dim]  # (dec_hid, dec_hid)
        energy = torch.tanh(keys + torch.matmul(hidden, W_s.t()).unsqueeze(1))  # (B, S, dec_hid)
        return F.softmax(self.v(energy).squeeze(2), dim=1)  # (B, S)


class Decoder(nn.Module):
    def __init__(self, output_dim, emb_dim, enc_hid_dim, dec_hid_dim, dropout, attention):
        super().__init__()
        self.output_dim = output_dim
        self.attention = attention
        self.embedding = nn.Embedding(output_dim, emb_dim)
        self.rnn = nn.GRU((enc_hid_dim * 2) + emb_dim, dec_hid_dim)
        self.fc_out = nn.Linear((enc_hid_dim * 2) + dec_hid_dim + emb_dim, output_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, input, hidden, encoder_outputs, keys=None):
        embedded = self.dropout(self.embedding(input.unsqueeze(0)))  # (1, B, E)
        a = self.attention(hidden, encoder_outputs) if keys is None else self.attention.from_keys(hidden, keys)
        weighted = torch.bmm(a.unsqueeze(1), encoder_outputs.permute(1, 0, 2))  # (B, 1, 2 enc_hid)
        weighted = weighted.permute(1, 0, 2)  # (1, B, 2 enc_hid)
        rnn_input = torch.cat((embedded, weighted), dim=2)  # (1, B, 2 enc_hid + E)
        output, hidden = self.rnn(rnn_input, hidden.unsqueeze(0))  # (1, B, dec_hid) twice
        embedded, output, weighted = embedded.squeeze(0), output.squeeze(0), weighted.squeeze(0)
        prediction = self.fc_out(torch.cat((output, weighted, embedded), dim=1))  # (B, V)
        return prediction, hidden.squeeze(0)


class Seq2Seq(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, src, trg, teacher_forcing_ratio=0.5):
        trg_len, batch_size = trg.shape
        outputs = torch.zeros(trg_len, batch_size, self.decoder.output_dim)
        encoder_outputs, hidden = self.encoder(src)
        input = trg[0, :]
        for t in range(1, trg_len):
            output, hidden = self.decoder(input, hidden, encoder_outputs)
            outputs[t] = output
            teacher_force = random.random() < teacher_forcing_ratio
            top1 = output.argmax(1)
            input = trg[t] if teacher_force else top1
        return outputs


class TunedSeq2Seq(Seq2Seq):
    """Not bentrevett's (the informational "tuned" row): his function and weights, three costs of his loop gone.

    attn's encoder half is applied once per batch (``Attention.keys``); the step predictions are stacked at the
    end instead of copied into a preallocated (T + 1, B, V) tensor (whose backward copies that whole tensor's
    gradient at every step); no argmax of the predictions (teacher forcing is always on here).
    """

    def forward(self, src, trg, teacher_forcing_ratio=1.0):
        encoder_outputs, hidden = self.encoder(src)
        keys = self.decoder.attention.keys(encoder_outputs)  # (B, S, dec_hid)
        outputs = [torch.zeros(trg.shape[1], self.decoder.output_dim)]  # row 0, as bentrevett's (never scored)
        for t in range(1, trg.shape[0]):
            output, hidden = self.decoder(trg[t - 1], hidden, encoder_outputs, keys)
            outputs.append(output)
        return torch.stack(outputs)  # (T + 1, B, V)


def init_weights(m):
    for name, param in m.named_parameters():
        if "weight" in name:
            nn.init.normal_(param.data, mean=0, std=0.01)
        else:
            nn.init.constant_(param.data, 0)


def bentrevett_model(vocabulary_size, embedding_dim, units, tuned=False):
    enc_hid_dim, dec_hid_dim = units // 2, units  # our encoder's U/2 per direction (see the docstring)
    attention = Attention(enc_hid_dim, dec_hid_dim)
    encoder = Encoder(vocabulary_size, embedding_dim, enc_hid_dim, dec_hid_dim, DROPOUT)
    decoder = Decoder(vocabulary_size, embedding_dim, enc_hid_dim, dec_hid_dim, DROPOUT, attention)
    model = (TunedSeq2Seq if tuned else Seq2Seq)(encoder, decoder)
    model.apply(init_weights)
    return model


class TorchTrainer:
    """bentrevett's ``train`` with teacher_forcing_ratio 1, over a list of (src (S, B), trg (T + 1, B)) batches."""

    def __init__(self, model):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        self.criterion = nn.CrossEntropyLoss(ignore_index=PAD_ID)

    def train(self, batches):
        self.model.train()
        epoch_loss = 0.0
        for src, trg in batches:
            self.optimizer.zero_grad()
            output = self.model(src, trg, teacher_forcing_ratio=1.0)  # (T + 1, B, V)
            output_dim = output.shape[-1]
            loss = self.criterion(output[1:].view(-1, output_dim), trg[1:].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), CLIP)
            self.optimizer.step()
            epoch_loss += loss.item()
        return epoch_loss / len(batches)


# ------------------------------------------------------------------------------------------------
# The batches.


def pair_lengths(rng, n):
    """(source, target) token counts of n pairs, Multi30k-like: means about 12 and 13, at most MAX_LENGTH."""
    size = rng.gamma(8.0, 1.0 / 8.0, n)  # a sentence's size, shared by its two sides (mean 1)
    source = np.rint(SOURCE_MEAN * size + rng.normal(0.0, 1.5, n))
    target = np.rint(TARGET_MEAN * size + rng.normal(0.0, 1.5, n))
    return np.clip(source, 1, MAX_LENGTH).astype(int), np.clip(target, 1, MAX_LENGTH).astype(int)


def token_ids(rng, n, vocabulary_size):
    """n ids from a Zipf law over the real tokens, ids 4 .. vocabulary_size - 1 (0-3 are pad, unk, start, end)."""
    return 4 + (rng.zipf(1.1, n) - 1) % (vocabulary_size - 4)


def make_batches(count, vocabulary_size, rng, batch_size=BATCH_SIZE):
    """``count`` batches (source (B, S), target (B, T + 1)) int64, padded with 0 to each batch's longest, the
    target [START] y [END]; batched like torchtext's BucketIterator (sorted pools, shuffled batches)."""
    batches = []
    while len(batches) < count:
        source_lengths, target_lengths = pair_lengths(rng, POOL_BATCHES * batch_size)
        order = np.lexsort((target_lengths, source_lengths))  # by source length, then target length
        pool = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        rng.shuffle(pool)
        for rows in pool[: count - len(batches)]:
            ls, lt = source_lengths[rows], target_lengths[rows]
            source = np.zeros((batch_size, ls.max()), np.int64)
            target = np.zeros((batch_size, lt.max() + 2), np.int64)
            for b, (s, t) in enumerate(zip(ls, lt)):
                source[b, :s] = token_ids(rng, s, vocabulary_size)
                target[b, 0] = START_ID
                target[b, 1 : t + 1] = token_ids(rng, t, vocabulary_size)
                target[b, t + 1] = END_ID
            batches.append((source, target))
    return batches


def keras_arrays(source, target):
    """Our training batch of bentrevett's: target_in = [START] y (the [END] of shorter rows made padding),
    targets y [END]; both (B, T)."""
    target_in = np.where(target[:, :-1] == END_ID, PAD_ID, target[:, :-1])
    return {"source": source.astype("int32"), "target_in": target_in.astype("int32")}, target[:, 1:].astype("int32")


def keras_dataset(batches):
    """The batches as a user's ``tf.data`` gives them: one element per pair, ``data.batch_with_padding``."""

    def rows(arrays):  # batches (B, L_k) padded -> one ragged (N, None) of the unpadded rows (no id inside is 0)
        return tf.concat([tf.RaggedTensor.from_tensor(a, padding=PAD_ID) for a in arrays], axis=0)

    pairs = [keras_arrays(source, target) for source, target in batches]
    x = {name: rows([inputs[name] for inputs, _ in pairs]) for name in ("source", "target_in")}
    y = rows([targets for _, targets in pairs])
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).apply(data.batch_with_padding(BATCH_SIZE))
    options = tf.data.Options()
    options.autotune.enabled = False  # on 2 cores the autotuner's thread halves the rate of about every other fit call
    return dataset.with_options(options)


def torch_batches(batches):
    return [(torch.from_numpy(source.T.copy()), torch.from_numpy(target.T.copy())) for source, target in batches]


def target_tokens(batches):
    """The non-padding targets of the batches (y_1 .. y_n [END] of every pair)."""
    return int(sum((target[:, 1:] != PAD_ID).sum() for _, target in batches))


# ------------------------------------------------------------------------------------------------
# Matmul work per batch (multiply-adds x 2), forward pass; a training step is about 3x.


def forward_flops(kind, source, target, E, U, V):
    B, S, T = source.shape[0], source.shape[1], target.shape[1] - 1  # T decoder steps
    h = U // 2
    encoder = 2 * 2 * B * S * (E + h) * 3 * h  # both directions: input and recurrent matmuls
    gru = 2 * B * (E + U + U) * 3 * U  # decoder GRU on [y ; c] and s
    read = 2 * 2 * B * S * U  # v^T tanh(.) and the weighted sum of the h_j
    if kind == "ours":
        once, step = 2 * B * S * U * U, 2 * B * U * U + read + gru + 2 * B * (E + 2 * U) * 2 * U + 2 * B * U * V
    elif kind == "bentrevett":
        once, step = 2 * B * U * U, 2 * B * S * 2 * U * U + read + gru + 2 * B * (2 * U + E) * V
    else:  # "tuned": bentrevett's with the attention keys once
        once, step = 2 * B * U * U + 2 * B * S * U * U, 2 * B * U * U + read + gru + 2 * B * (2 * U + E) * V
    return encoder + once + T * step


# ------------------------------------------------------------------------------------------------


def check_same_batches(dataset, batches):
    for (x, y), (source, target) in zip(dataset.take(2), batches):
        expected_x, expected_y = keras_arrays(source, target)
        same = all(np.array_equal(x[k].numpy(), expected_x[k]) for k in expected_x) and np.array_equal(y.numpy(), expected_y)
        if not same:
            raise AssertionError("the tf.data batches differ from the PyTorch batches")


def check_tuned(peer, fast, batch):
    """The "tuned" model computes bentrevett's function: the same logits from the same weights."""
    fast.load_state_dict(peer.state_dict())
    peer.eval()
    fast.eval()
    with torch.no_grad():
        difference = (peer(*batch, teacher_forcing_ratio=1.0) - fast(*batch, teacher_forcing_ratio=1.0)).abs().max()
    if float(difference) > 1e-4:
        raise AssertionError(f"the tuned peer differs from bentrevett's by {float(difference):.2e}")


def build(args):
    keras.utils.set_random_seed(args.seed)
    model = recipes.seq2seq_attention(
        source_vocabulary_size=args.vocabulary_size, target_vocabulary_size=args.vocabulary_size, cell="gru",
        bidirectional=True, attention="bahdanau", units=args.units, embedding_dim=args.embedding_dim,
        dropout=DROPOUT, learning_rate=LEARNING_RATE, clipnorm=CLIP, max_source_length=64, max_target_length=64,
    )  # fmt: skip
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    peer = bentrevett_model(args.vocabulary_size, args.embedding_dim, args.units)
    fast = bentrevett_model(args.vocabulary_size, args.embedding_dim, args.units, tuned=True)
    return model, peer, fast


def run_rounds(model, trainers, warmup, rounds):
    """Warm-up, then the interleaved rounds: {side: [(seconds, mean loss) per round]}."""
    model.fit(keras_dataset(warmup), epochs=1, steps_per_epoch=len(warmup), shuffle=False, verbose=0)
    for trainer in trainers.values():
        trainer.train(torch_batches(warmup))

    def keras_side(dataset):
        history = model.fit(dataset, epochs=1, steps_per_epoch=len(rounds[0]), shuffle=False, verbose=0)
        return history.history["loss"][-1]

    sides = {"ours": keras_side, **{name: trainer.train for name, trainer in trainers.items()}}
    times = {name: [] for name in sides}
    for r, batches in enumerate(rounds):
        inputs = {"ours": keras_dataset(batches), **{name: torch_batches(batches) for name in trainers}}  # before timing
        names = list(sides)[r % len(sides) :] + list(sides)[: r % len(sides)]  # rotate the order each round
        for name in names:
            start = time.perf_counter()
            loss = sides[name](inputs[name])
            times[name].append((time.perf_counter() - start, loss))
        tokens = target_tokens(batches)
        line = ", ".join(f"{name} {tokens / times[name][-1][0]:,.0f} tok/s (loss {times[name][-1][1]:.3f})" for name in sides)
        print(f"round {r + 1}: {len(batches)} steps, {tokens:,} target tokens: {line}", flush=True)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument("--embedding-dim", type=int, default=256)
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="training steps of each side per round")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps of each side first")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--quick", action="store_true", help=f"a smoke run: {QUICK}")
    args = parser.parse_args()
    if args.quick:
        vars(args).update(QUICK)
    torch.set_num_threads(2)
    E, U, V = args.embedding_dim, args.units, args.vocabulary_size

    batches = make_batches(args.warmup + args.rounds * args.steps, V, np.random.default_rng(args.seed))
    warmup = batches[: args.warmup]
    rounds = [batches[args.warmup + r * args.steps :][: args.steps] for r in range(args.rounds)]
    timed = [b for batch_list in rounds for b in batch_list]
    print(f"data: {len(batches)} synthetic batches of {BATCH_SIZE} pairs, vocabularies {V}; the timed ones: "
          f"{np.mean([(s != PAD_ID).sum() for s, _ in timed]) / BATCH_SIZE:.1f} source and "
          f"{target_tokens(timed) / len(timed) / BATCH_SIZE:.1f} target tokens a pair ([END] counted), padded to "
          f"S = {min(s.shape[1] for s, _ in timed)}..{max(s.shape[1] for s, _ in timed)} and "
          f"T = {min(t.shape[1] - 1 for _, t in timed)}..{max(t.shape[1] - 1 for _, t in timed)}")  # fmt: skip
    print(f"config: E={E} U={U} (peer: enc_hid_dim={U // 2} per direction, dec_hid_dim={U}), dropout {DROPOUT}, "
          f"Adam {LEARNING_RATE}, clip {CLIP}, teacher forcing 1; {args.warmup} warm-up steps, {args.rounds} rounds "
          f"of {args.steps} steps; torch {torch.__version__} on {torch.get_num_threads()} threads, TensorFlow "
          f"{tf.__version__} (default threads), Keras {keras.__version__}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")  # fmt: skip

    model, peer, fast = build(args)
    check_same_batches(keras_dataset(timed[:2]), timed[:2])
    check_tuned(peer, fast, torch_batches(timed[:1])[0])
    print(f"keras jit_compile={model.jit_compile}; the tf.data batches equal the PyTorch ones; the tuned peer "
          f"gives bentrevett's logits")  # fmt: skip
    trainers = {"bentrevett": TorchTrainer(peer), "tuned": TorchTrainer(fast)}
    times = run_rounds(model, trainers, warmup, rounds)
    report(args, model, {"bentrevett": peer, "tuned": fast}, rounds, times)


def report(args, model, peers, rounds, times):
    """The table (parameters, work, speed, ratios) and the goal line."""
    E, U, V = args.embedding_dim, args.units, args.vocabulary_size
    timed = [b for batch_list in rounds for b in batch_list]
    tokens = [target_tokens(batches) for batches in rounds]
    parameters = {"ours": model.count_params(), **{n: sum(p.numel() for p in m.parameters()) for n, m in peers.items()}}
    labels = {"ours": "seq2seq_attention (Keras, fit)", "bentrevett": "bentrevett tutorial 3 (PyTorch)",
              "tuned": "  the same, tuned loop (info)"}  # fmt: skip
    print(f"{'model':<36}{'parameters':>12}{'GFLOP/step':>12}{'tokens/s':>11}{'GFLOP/s':>9}  ours/this (median of rounds)")
    for name, label in labels.items():
        rate = statistics.median(n / seconds for n, (seconds, _) in zip(tokens, times[name]))
        step_gflop = 3 * np.mean([forward_flops(name, s, t, E, U, V) for s, t in timed]) / 1e9
        seconds = sum(s for s, _ in times[name]) / len(timed)
        ratio = statistics.median(theirs / ours for (ours, _), (theirs, _) in zip(times["ours"], times[name]))
        print(f"{label:<36}{parameters[name]:>12,}{step_gflop:>12.1f}{rate:>11,.0f}{step_gflop / seconds:>9.1f}  "
              f"{'(ours)' if name == 'ours' else f'{ratio:.2f}x'}")  # fmt: skip
    print("GFLOP/step: 3 x the forward matmul work of a mean timed batch (an estimate from the sizes)")
    ratio = statistics.median(theirs / ours for (ours, _), (theirs, _) in zip(times["ours"], times["bentrevett"]))
    met = "met" if ratio >= 1.0 and not args.quick else "not met"  # a smoke run at tiny sizes decides nothing
    scope = ", judged at the default sizes only" if args.quick else ""
    print(f"goal bahdanau_training_speed_vs_pytorch: {ratio:.2f}x (target >= 1.0x bentrevett's PyTorch model{scope}) {met}")


if __name__ == "__main__":
    main()
