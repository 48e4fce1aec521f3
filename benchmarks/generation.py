"""Speed of in-graph decoding: against Python loops, beam search against greedy, the export against the
Keras call, and our beam search against keras-hub's BeamSampler.

1. seq2seq_attention (the recipe's default sizes: bidirectional GRU encoder of 128 units, Bahdanau
   attention), batch 1, exactly 32 output tokens (the end token's logit bias is set to -1e4 so that no
   run stops early and every method does the same 32 steps):
   - "python loop, model": the tutorials' way, the teacher-forced Keras model called from Python once per
     output token on the source and the target prefix so far, argmax of the last position;
   - "python loop, step": encoder once, then ``decoder.step`` called eagerly from Python once per token
     (the better tutorials' way; for information);
   - "in-graph greedy": ``recipes.generate(decoder, ids)`` inside one ``tf.function`` (one while loop);
   - "in-graph beam 4": the same with ``beam_width=4``.
   The three greedy methods must give the same tokens.
2. The exported SavedModel (``recipes.export``), loaded with ``tf.saved_model.load``, its
   ``serving_default`` on one raw string (tokenize, decode, detokenize), against the in-graph greedy
   call on the same ids: p50 and p99 latency over interleaved single requests.
3. transformer_seq2seq (trained for a few hundred steps on sequence reversal so that its outputs are not
   noise): our ``beam_search`` (beam 4, no length penalty) against ``keras_hub.samplers.BeamSampler``
   (4 beams) driving the same ``Decoder`` through the same key/value caches, both in one ``tf.function``;
   the speed ratio and how often the best sequences agree (compared up to the end token; BeamSampler keeps
   extending beams after their end token, ours freezes them, so they may differ where a short hypothesis
   wins).

Runs are interleaved and medians (or percentiles) over repeats are reported, so the ratios hold on a
noisy shared machine. The last lines are one line per goal: ``goal NAME: ... met`` or ``... not met``.

Usage: python benchmarks/generation.py [--repeats 7] [--requests 200] [--train-steps 300]
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqrecipes import data, recipes  # noqa: E402
from seqrecipes.data import END_ID, START_ID  # noqa: E402
from seqrecipes.recipes import decoding  # noqa: E402

OUTPUT_TOKENS = 32
SOURCE = "the twenty-fifth of june, 2009"


def timed(fn):
    start = time.perf_counter()
    result = fn()
    tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, result)
    return time.perf_counter() - start, result


def interleaved(candidates, repeats):
    """name -> callable; each run once per repeat, the order reversed every other repeat. -> name -> times."""
    times = {name: [] for name in candidates}
    order = list(candidates)
    for repeat in range(repeats):
        for name in order if repeat % 2 == 0 else order[::-1]:
            times[name].append(timed(candidates[name])[0])
    return times


def attention_model():
    alphabet = sorted(set(SOURCE + "0123456789-"))
    tokenizer = data.CharTokenizer(vocabulary=alphabet)
    model = recipes.seq2seq_attention(
        source_tokenizer=tokenizer, target_tokenizer=tokenizer, max_target_length=OUTPUT_TOKENS
    )
    logits = model.get_layer("logits")
    bias = logits.bias.numpy()
    bias[END_ID] = -1e4  # never stop early: every method runs exactly OUTPUT_TOKENS steps
    logits.bias.assign(bias)
    return model


def python_loop_model(model, source):
    """The tutorials' way: the whole teacher-forced model once per output token, from Python."""
    target_in = np.full((1, 1), START_ID, "int32")
    for _ in range(OUTPUT_TOKENS):
        logits = model({"source": source, "target_in": tf.constant(target_in)}, training=False)  # (1, t, V)
        logits = np.array(logits[:, -1])
        logits[:, list(decoding.NEVER_GENERATED)] = -np.inf  # as the recipe's decoder does
        target_in = np.concatenate([target_in, logits.argmax(-1)[:, None].astype("int32")], axis=1)
    return target_in[:, 1:]


def python_loop_step(decoder, source):
    """Encoder once, then the decoder's step eagerly from Python once per output token."""
    state = decoder.encode(source)
    token = tf.fill([1], START_ID)
    tokens = []
    for t in range(OUTPUT_TOKENS):
        logits, state = decoder.step(token, state, t)
        token = tf.cast(tf.argmax(logits, axis=-1), tf.int32)
        tokens.append(token)
    return tf.stack(tokens, axis=1)


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def bench_decoding(repeats, requests):
    model = attention_model()
    decoder = model.decoder
    source = decoder.inputs_from_raw(tf.constant([SOURCE]))  # (1, S)

    greedy = tf.function(lambda ids: decoding.generate(decoder, ids)["ids"])
    beam = tf.function(lambda ids: decoding.generate(decoder, ids, beam_width=4)["ids"])
    candidates = {
        "python loop, model": lambda: python_loop_model(model, source),
        "python loop, step": lambda: python_loop_step(decoder, source),
        "in-graph greedy": lambda: greedy(source),
        "in-graph beam 4": lambda: beam(source),
    }
    outputs = {name: np.asarray(timed(fn)[1]) for name, fn in candidates.items()}  # also traces and warms up
    reference = outputs["in-graph greedy"][:, 0]
    same = all(np.array_equal(np.asarray(outputs[name]).reshape(reference.shape), reference)
               for name in ("python loop, model", "python loop, step"))  # fmt: skip
    times = interleaved(candidates, repeats)
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f"seq2seq_attention, batch 1, {OUTPUT_TOKENS} output tokens (median of {repeats}):")
    for name, median in medians.items():
        print(f"  {name:20s} {1000 * median:9.1f} ms   ({OUTPUT_TOKENS / median:8.0f} tokens/s)")
    print(f"  the three greedy methods give the same tokens: {same}")
    speedup = medians["python loop, model"] / medians["in-graph greedy"]
    step_speedup = medians["python loop, step"] / medians["in-graph greedy"]
    beam_ratio = medians["in-graph beam 4"] / medians["in-graph greedy"]
    print(f"  ratio python loop (model) / in-graph greedy: {speedup:.1f}x")
    print(f"  ratio python loop (step) / in-graph greedy:  {step_speedup:.1f}x")
    print(f"  ratio beam 4 / greedy: {beam_ratio:.2f}x")

    with tempfile.TemporaryDirectory() as root:
        path = recipes.export(model, os.path.join(root, "dates"))
        served = tf.saved_model.load(path).signatures["serving_default"]
        strings = tf.constant([SOURCE])
        served(inputs=strings)  # warm up
        exported = {"export, string in/out": lambda: served(inputs=strings)["outputs"], "keras call, ids": lambda: greedy(source)}
        latencies = interleaved(exported, requests)
    print(f"exported serving_default against the in-graph call on the same ids, {requests} single requests each:")
    for name, values in latencies.items():
        print(f"  {name:24s} p50 {1000 * percentile(values, 50):8.2f} ms   p99 {1000 * percentile(values, 99):8.2f} ms")
    overhead50 = percentile(latencies["export, string in/out"], 50) / percentile(latencies["keras call, ids"], 50) - 1
    overhead99 = percentile(latencies["export, string in/out"], 99) / percentile(latencies["keras call, ids"], 99) - 1
    print(f"  export overhead: p50 {100 * overhead50:+.1f}%, p99 {100 * overhead99:+.1f}%")
    return speedup, same, beam_ratio, overhead50


def trained_transformer(train_steps):
    pairs = data.sequence_reversal(4096, max_length=12, alphabet="abcdefgh", seed=0)
    tokenizer = data.CharTokenizer(vocabulary=list("abcdefgh"))
    model = recipes.transformer_seq2seq(
        num_layers=2, num_heads=4, hidden_dim=64, intermediate_dim=128, share_embeddings=True,
        max_source_length=16, max_target_length=16, source_tokenizer=tokenizer, target_tokenizer=tokenizer,
    )  # fmt: skip
    batches = pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, batch_size=64)).repeat()
    model.fit(batches, epochs=1, steps_per_epoch=train_steps, verbose=0)
    sources = [s.decode() for s, _ in data.sequence_reversal(64, max_length=12, alphabet="abcdefgh", seed=1).as_numpy_iterator()]
    return model, model.decoder.inputs_from_raw(tf.constant(sources))


def keras_hub_beam(decoder, num_beams):
    """keras_hub.samplers.BeamSampler driving our Decoder: its cache is our state, tiled and reordered by it."""
    sampler = keras_hub.samplers.BeamSampler(num_beams=num_beams)
    length = decoder.max_length + 1  # [START] + the output

    def search(ids):
        state = decoder.encode(ids)
        batch = tf.shape(ids)[0]
        prompt = tf.concat([tf.fill([batch, 1], START_ID), tf.zeros([batch, length - 1], tf.int32)], axis=1)
        mask = tf.concat([tf.ones([batch, 1], tf.bool), tf.zeros([batch, length - 1], tf.bool)], axis=1)

        def next(prompt, state, index):
            # keras-hub asks for the logits of position `index` given the token at index - 1.
            logits, state = decoder.step(prompt[:, index - 1], state, index - 1)
            return tf.nn.log_softmax(logits), None, state

        return sampler(next, prompt, cache=state, index=1, mask=mask, stop_token_ids=[END_ID])[:, 1:]

    return search


def cut(ids):
    """Rows of ids up to (without) the first end token or padding, as tuples."""
    rows = []
    for row in np.asarray(ids):
        out = []
        for token in row:
            if token in (END_ID, 0):
                break
            out.append(int(token))
        rows.append(tuple(out))
    return rows


def bench_keras_hub(repeats, train_steps):
    model, sources = trained_transformer(train_steps)
    decoder = model.decoder
    ours = tf.function(lambda ids: decoding.beam_search(decoder, ids, beam_width=4, length_penalty=0.0)["ids"][:, 0])
    theirs = tf.function(keras_hub_beam(decoder, 4))
    candidates = {"seqrecipes beam_search": lambda: ours(sources), "keras_hub BeamSampler": lambda: theirs(sources)}
    results = {name: cut(timed(fn)[1]) for name, fn in candidates.items()}
    agree = np.mean([a == b for a, b in zip(results["seqrecipes beam_search"], results["keras_hub BeamSampler"])])
    times = interleaved(candidates, repeats)
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f"transformer_seq2seq ({train_steps} training steps), beam 4, batch {sources.shape[0]}, up to {decoder.max_length} tokens:")
    for name, median in medians.items():
        print(f"  {name:24s} {1000 * median:9.1f} ms")
    ratio = medians["keras_hub BeamSampler"] / medians["seqrecipes beam_search"]
    print(f"  ratio keras_hub / seqrecipes: {ratio:.2f}x; best sequences agree on {100 * agree:.1f}% of {len(sources)} inputs")
    return ratio, agree


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--train-steps", type=int, default=300)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, keras-hub {keras_hub.__version__}, {os.cpu_count()} CPU cores")
    speedup, same, beam_ratio, overhead = bench_decoding(args.repeats, args.requests)
    hub_ratio, agree = bench_keras_hub(args.repeats, args.train_steps)
    print(f"goal in_graph_greedy_vs_python_loop: {speedup:.1f}x{'' if same else ' (tokens differ)'} (target >= 10x) "
          f"{'met' if speedup >= 10 and same else 'not met'}")  # fmt: skip
    print(f"goal beam4_vs_greedy: {beam_ratio:.2f}x the time (target <= 2.5x) {'met' if beam_ratio <= 2.5 else 'not met'}")
    print(f"goal export_overhead_p50: {100 * overhead:+.1f}% (target <= +20%) {'met' if overhead <= 0.20 else 'not met'}")
    print(f"goal beam_vs_keras_hub: {hub_ratio:.2f}x keras-hub's speed, {100 * agree:.1f}% agreement "
          f"(target >= 1.00x) {'met' if hub_ratio >= 1.0 else 'not met'}")  # fmt: skip


if __name__ == "__main__":
    main()
