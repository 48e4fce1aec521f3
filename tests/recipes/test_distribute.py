"""``recipes.train(..., strategy=...)``: MirroredStrategy over two logical CPU devices gives the weights of one
device with the same global batches (a recurrent recipe, with its gradients clipped by global norm as well, in
float32 and mixed_float16, and the Transformer), and its bad input. In a child
process: the logical devices must be set before TensorFlow starts."""

import json
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import json, tempfile
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from seqrecipes import data, recipes

    tokenizer = data.CharTokenizer(vocabulary=list("abcdef"))
    rng = np.random.default_rng(0)
    # One length for every example: each replica's half of a batch holds as many target tokens, so the
    # mean token loss of the replicas is the mean of the whole batch (with padding it is a mean of means).
    texts = ["".join(rng.choice(list("abcdef"), 5)) for _ in range(32)]
    pairs = tf.data.Dataset.from_tensor_slices((texts, [t[::-1] for t in texts]))
    batches = pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, 8)).cache()
    sizes = dict(max_target_length=8, source_tokenizer=tokenizer, target_tokenizer=tokenizer)
    builds = {
        "seq2seq_attention": lambda: recipes.seq2seq_attention(units=8, embedding_dim=4, **sizes),
        # A threshold every step's gradient exceeds: the global batch's gradient is clipped, not each replica's.
        "seq2seq_attention clipped": lambda: recipes.seq2seq_attention(units=8, embedding_dim=4, clipnorm=1e-3, **sizes),
        # ... and under a LossScaleOptimizer, where the gradients are of the scaled loss.
        "seq2seq_attention float16 clipped": lambda: recipes.seq2seq_attention(
            units=8, embedding_dim=4, clipnorm=1e-3, mixed_precision="mixed_float16", **sizes),
        "transformer_seq2seq": lambda: recipes.transformer_seq2seq(num_layers=1, num_heads=2, hidden_dim=8, dropout=0.0, **sizes),
    }
    answer = {}

    def mirrored():
        return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice())

    for name, build in builds.items():
        keras.utils.set_random_seed(0)
        one, two = build(), build()
        two.set_weights(one.get_weights())
        start = [w.copy() for w in one.get_weights()]
        settings = dict(epochs=2, verbose=0, tensorboard=False)
        recipes.train(one, batches, run_dir=tempfile.mkdtemp(), **settings)
        strategy = mirrored()
        recipes.train(two, batches, run_dir=tempfile.mkdtemp(), strategy=strategy, **settings)
        # Attention key biases move the scores of a query all alike, so softmax cancels them: their gradient is
        # 0 but for rounding, which Adam's step normalises into steps of the learning rate's size.
        kept = [i for i, w in enumerate(one.weights) if not w.path.endswith("key_bias")]
        ones, twos = one.get_weights(), two.get_weights()
        inputs = next(iter(batches))[0]
        answer[name] = {
            "weights": max(float(np.abs(ones[i] - twos[i]).max()) for i in kept),
            "moved": max(float(np.abs(ones[i] - start[i]).max()) for i in kept),
            "outputs": float(np.abs(np.asarray(one(inputs)) - np.asarray(two(inputs))).max()),
            "replicas": strategy.num_replicas_in_sync,
        }

    def error(call):
        try:
            call()
        except ValueError as caught:
            return str(caught)
        return None

    odd = pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, 7))
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    plain.compile(optimizer="adam", loss="mse")
    answer["odd batch"] = error(lambda: recipes.train(builds["seq2seq_attention"](), odd, epochs=1, verbose=0, strategy=mirrored(),
                                                      run_dir=tempfile.mkdtemp()))
    answer["a name"] = error(lambda: recipes.train(builds["seq2seq_attention"](), batches, epochs=1, strategy="mirrored",
                                                   run_dir=tempfile.mkdtemp()))
    answer["not a recipe"] = error(lambda: recipes.train(plain, np.ones((4, 2)), y=np.ones((4, 1)), epochs=1, verbose=0,
                                                         strategy=mirrored(), run_dir=tempfile.mkdtemp()))
    print("ANSWER " + json.dumps(answer))
""")


@pytest.fixture(scope="module")
def answer():
    run = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=600,
                         env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("ANSWER ")]
    return json.loads(line[len("ANSWER ") :])


@pytest.mark.parametrize(
    "name, tolerance",
    # float16 rounds the two halves' activations apart from the whole batch's; clipped per replica instead of
    # on the sum, both clipped models' weights part by 5e-3.
    [("seq2seq_attention", 1e-5), ("seq2seq_attention clipped", 1e-5), ("seq2seq_attention float16 clipped", 1e-4),
     ("transformer_seq2seq", 1e-5)],
)  # fmt: skip
def test_mirrored_over_two_devices_gives_the_weights_of_one(answer, name, tolerance):
    result = answer[name]
    assert result["replicas"] == 2 and result["moved"] > 0.01  # trained, on two replicas
    assert result["weights"] < tolerance and result["outputs"] < tolerance, result


def test_bad_strategies_and_batches_are_clear_errors(answer):
    assert "must split evenly across the strategy's 2 replicas. Received: a first batch of 7 examples" in answer["odd batch"]
    assert "`strategy` must be a tf.distribute.Strategy" in answer["a name"] and "Received: strategy='mirrored'" in answer["a name"]
    assert "must be a recipe's" in answer["not a recipe"] and "Received: model=Sequential" in answer["not a recipe"]
