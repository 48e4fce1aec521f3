"""Bad requests: to the decoding searches, to ``recipes.predict`` and to an export (issue 12, parts 2-4).

Every case is one call and what it must give (``tests/bad_input.py``). The Python cases call the
searches and ``predict`` on tiny untrained recipes. The export cases send the worst request of each
kind (a beam width of 2**31-1, 10000 beams for 64 inputs, 10**6 samples, ``max_length`` 10**9, a
10**6-character prompt, NaN and inf settings, a 2-D batch) to one tiny ``rnn_language_model``
export, loaded in ONE child process under a memory limit and a timeout (``run_limited``) through
``tf.saved_model.load`` and through the TF1 session loader that TF Serving uses; each request is a
case over that child's answers, which must come with the sizes clamped to the limits the export
stores (64 beams, 64 results) and in a few seconds.
"""

import functools
import json
import tempfile
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from bad_input import answers, expect_clear, params, raises, run_limited

from seqrecipes import data, recipes
from seqrecipes.recipes.many_to_many.rnn_language_model import MAX_PROMPT_LENGTH
from seqrecipes.recipes.serving.signatures import GENERATE_SETTINGS, generate_function, generate_settings

NAN, INF = float("nan"), float("inf")
ALPHABET = "abcdef"
MAX_OUTPUT_LENGTH = 6
IMAGE_SIZE = 8
LIMIT = 64  # the export's default max_beam_width and max_num_results
CHILD_MEMORY_GB = 3
CHILD_TIMEOUT_S = 240
REQUEST_SECONDS = 10.0  # each request must answer within this, far under the child's timeout


# ------------------------------------------------------------------------------------------------
# Tiny untrained recipes, built once.


@functools.cache
def _chars():
    return data.CharTokenizer(vocabulary=list(ALPHABET))


@functools.cache
def _lm():
    return recipes.rnn_language_model(
        units=8, embedding_dim=4, max_output_length=MAX_OUTPUT_LENGTH, text_tokenizer=_chars()
    )


@functools.cache
def _prompts():
    return recipes.prompt_ids(_chars(), ["ab", "c"])


@functools.cache
def _window_lm():
    words = data.WordTokenizer(vocabulary=["a", "b"])
    return recipes.window_language_model(context_size=2, units=4, embedding_dim=4, text_tokenizer=words)


@functools.cache
def _regressor():
    return recipes.sequence_regressor(input_length=4, units=4, mean=[0.0], variance=[1.0])


@functools.cache
def _captioner():
    captions = data.WordTokenizer(vocabulary=["red", "blue"])
    return recipes.image_captioner(
        image_height=IMAGE_SIZE, image_width=IMAGE_SIZE, filters=[4], embedding_dim=4, units=4, attention_units=4,
        max_output_length=4, target_tokenizer=captions,
    )  # fmt: skip


def _generate(**settings):
    return lambda: recipes.generate(_lm().decoder, _prompts(), **settings)


def _same_ids(settings, reference):
    """A call that answers (the ids of ``settings``, the ids of ``reference``) as lists."""

    def call():
        got = recipes.generate(_lm().decoder, _prompts(), **settings)
        expected = recipes.generate(_lm().decoder, _prompts(), **reference)
        return got["ids"].numpy().tolist(), expected["ids"].numpy().tolist(), bool(np.isfinite(got["scores"]).all())

    return call


def _equal_and_finite(value):
    got, expected, finite = value
    return got == expected and finite


def _predict(model, inputs, **kwargs):
    return lambda: recipes.predict(model(), inputs, **kwargs)


# ------------------------------------------------------------------------------------------------
# The Python cases: decoding settings, prompts, predict, export arguments.

DECODING_CASES = [
    raises("generate seed='a'", _generate(temperature=1.0, seed="a"), TypeError, "seed"),
    raises("generate beam_width='a'", _generate(beam_width="a"), TypeError, "beam_width"),
    raises("generate beam_width float tensor", _generate(beam_width=tf.constant(2.5)), TypeError, "beam_width"),
    raises("generate temperature string tensor", _generate(temperature=tf.constant("x")), TypeError, "temperature"),
    raises("generate top_p=NaN", _generate(temperature=1.0, top_p=NAN), ValueError, "top_p", "nan"),
    raises("generate temperature=NaN", _generate(temperature=NAN), ValueError, "temperature", "nan"),
    raises("generate temperature=inf", _generate(temperature=INF), ValueError, "temperature", "inf"),
    raises("generate length_penalty=NaN", _generate(beam_width=2, length_penalty=NAN), ValueError, "length_penalty"),
    raises("generate length_penalty=inf", _generate(beam_width=2, length_penalty=INF), ValueError, "length_penalty"),
    raises("generate coverage_penalty=inf", _generate(beam_width=2, coverage_penalty=INF), ValueError, "coverage_penalty"),
    raises("generate beam_width=2**31-1", _generate(beam_width=2**31 - 1), ValueError, "beam_width", "1024"),
    raises("generate num_results=10**6", _generate(temperature=1.0, num_results=10**6), ValueError, "num_results"),
    raises("generate max_length=10**9", _generate(max_length=10**9), ValueError, "max_length", str(MAX_OUTPUT_LENGTH)),
    raises("beam_search beam_width=10**4",
           lambda: recipes.beam_search(_lm().decoder, _prompts(), beam_width=10**4), ValueError, "beam_width"),  # fmt: skip
    raises("sample temperature=inf",
           lambda: recipes.sample(_lm().decoder, _prompts(), temperature=INF), ValueError, "temperature"),  # fmt: skip
    raises("sample top_p=NaN",
           lambda: recipes.sample(_lm().decoder, _prompts(), top_p=NAN), ValueError, "top_p"),  # fmt: skip
    # Scalar tensors (what an export feeds) are clamped, NaN and inf replaced by generate's defaults.
    answers("tensor temperature=NaN decodes greedily",
            _same_ids(dict(temperature=tf.constant(NAN)), dict()), _equal_and_finite),  # fmt: skip
    answers("tensor top_p=NaN keeps every token",
            _same_ids(dict(temperature=1.0, seed=3, top_p=tf.constant(NAN)), dict(temperature=1.0, seed=3)),
            _equal_and_finite),  # fmt: skip
    answers("tensor length_penalty=inf is the default 0.6",
            _same_ids(dict(beam_width=3, num_results=2, length_penalty=tf.constant(INF)),
                      dict(beam_width=3, num_results=2, length_penalty=0.6)), _equal_and_finite),  # fmt: skip
    answers("tensor length_penalty=NaN is the default 0.6",
            _same_ids(dict(beam_width=3, num_results=2, length_penalty=tf.constant(NAN)),
                      dict(beam_width=3, num_results=2, length_penalty=0.6)), _equal_and_finite),  # fmt: skip
    answers("tensor beam_width and num_results 2**31-1 are clamped to 1024",
            lambda: tuple(recipes.generate(_lm().decoder, _prompts(), beam_width=tf.constant(2**31 - 1),
                                           num_results=tf.constant(2**31 - 1), max_length=2)["ids"].shape),
            lambda shape: shape == (2, 1024, 2)),  # fmt: skip
]

PROMPT_CASES = [
    answers("prompt_ids of a 10**6-character prompt keeps its last 4096 ids",
            lambda: recipes.prompt_ids(_chars(), ["ab" * 500_000, "c"]).numpy(),
            lambda ids: ids.shape == (2, MAX_PROMPT_LENGTH) and ids[0, -2:].tolist() == [4, 5]
            and ids[1, :2].tolist() == [2, 6]),  # fmt: skip
    raises("prompt_ids max_length=0", lambda: recipes.prompt_ids(_chars(), ["ab"], max_length=0), ValueError, "max_length"),
    answers("rnn_language_model predict of a 10**6-character prompt",
            _predict(_lm, ["ab" * 500_000, "c"]), lambda out: out["outputs"].shape == (2,)),  # fmt: skip
    answers("window_contexts of a 10**6-word prompt is its last words",
            lambda: (recipes.window_contexts(_window_lm().tokenizer("text"), ["a b " * 500_000 + "a"], 2).numpy().tolist(),
                     recipes.window_contexts(_window_lm().tokenizer("text"), ["b a"], 2).numpy().tolist()),
            lambda pair: pair[0] == pair[1] == [[5, 4]]),  # fmt: skip
]

PREDICT_CASES = [
    raises("predict a bare string", _predict(_lm, "June"), TypeError, "inputs", "pass [inputs]"),
    raises("predict bare bytes", _predict(_lm, b"June"), TypeError, "inputs"),
    raises("predict [5]", _predict(_lm, [5]), TypeError, "inputs[0]=5"),
    raises("predict [None]", _predict(_lm, [None]), TypeError, "inputs[0]=None"),
    raises("predict a 2-D list", _predict(_lm, [["a", "b"], ["c", "d"]]), TypeError, "inputs[0]"),
    raises("predict a ragged list", _predict(_lm, [["a"], ["b", "c"]]), TypeError, "inputs[0]"),
    raises("predict a 2-D array", _predict(_lm, np.array([["a", "b"]])), ValueError, "inputs", "(1, 2)"),
    raises("predict a 2-D tensor", _predict(_lm, tf.constant([["a", "b"]])), ValueError, "inputs", "(1, 2)"),
    raises("predict a ragged tensor", _predict(_lm, tf.ragged.constant([["a"], ["b", "c"]])), TypeError, "inputs"),
    raises("predict a number", _predict(_lm, 5), TypeError, "inputs"),
    raises("predict non-UTF-8 bytes", _predict(_lm, [b"ab", b"\xff\xfe"]), ValueError, "inputs[1]", "UTF-8"),
    raises("predict a lone surrogate", _predict(_lm, ["\ud800"]), ValueError, "inputs[0]", "UTF-8"),
    raises("predict batch_size=0", _predict(_lm, ["ab"], batch_size=0), ValueError, "batch_size"),
    raises("predict progress='no'", _predict(_lm, ["ab"], progress="no"), ValueError, "progress"),
    answers("predict a 1-D tf.constant batch is that batch",
            lambda: (recipes.predict(_lm(), tf.constant(["ab", "c"]))["outputs"].tolist(),
                     recipes.predict(_lm(), ["ab", "c"])["outputs"].tolist()),
            lambda pair: pair[0] == pair[1] and len(pair[0]) == 2),  # fmt: skip
    raises("predict a zero-step series", _predict(_regressor, np.zeros((2, 0))), ValueError, "inputs", "(2, 0)"),
    raises("predict a ragged series", _predict(_regressor, [[1.0, 2.0], [3.0]]), TypeError, "inputs"),
    raises("predict a series with NaN", _predict(_regressor, [[1.0, NAN, 3.0]]), ValueError, "inputs[0, 1]=nan"),
    raises("predict a series with inf", _predict(_regressor, [[1.0, 2.0, INF]]), ValueError, "inputs[0, 2]=inf"),
    raises("predict a series of strings", _predict(_regressor, [["a", "b"]]), TypeError, "inputs"),
    raises("predict one series (1-D)", _predict(_regressor, [1.0, 2.0, 3.0]), ValueError, "inputs", "(3,)"),
    raises("predict a string to a regressor", _predict(_regressor, "1 2 3"), TypeError, "inputs"),
    raises("predict images of a wrong size", _predict(_captioner, np.zeros((1, 4, 4, 3))), ValueError,
           "inputs", f"(B, {IMAGE_SIZE}, {IMAGE_SIZE}, 3)", "(1, 4, 4, 3)"),  # fmt: skip
    raises("predict an image with NaN", _predict(_captioner, np.full((1, IMAGE_SIZE, IMAGE_SIZE, 3), NAN)),
           ValueError, "inputs"),  # fmt: skip
]


def _export_with_limit(**limits):
    return lambda: recipes.export(_lm(), tempfile.mkdtemp(), **limits)


def _generate_with_limits():
    """A ``generate`` signature function with limits 3 and 2, called with huge widths."""
    function = generate_function(_lm(), max_beam_width=3, max_num_results=2)
    feeds = generate_settings(4, beam_width=2**31 - 1, num_results=2**31 - 1)
    return tuple(function(tf.constant(["ab", "c", ""]), *[feeds[name] for name, _ in GENERATE_SETTINGS])["outputs"].shape)


EXPORT_ARGUMENT_CASES = [
    raises("export max_beam_width=0", _export_with_limit(max_beam_width=0), ValueError, "max_beam_width"),
    raises("export max_beam_width=2**31-1", _export_with_limit(max_beam_width=2**31 - 1), ValueError, "max_beam_width"),
    raises("export max_num_results=True", _export_with_limit(max_num_results=True), ValueError, "max_num_results"),
    answers("generate signature clamps to the limits it is given", _generate_with_limits, lambda shape: shape == (3, 2)),
]


# ------------------------------------------------------------------------------------------------
# The worst requests to an export, in one child process under limits.

GREEDY = dict(beam_width=1, num_results=1, temperature=0.0)
BEAM = dict(beam_width=3, num_results=2)
SAMPLING = dict(temperature=1.0, seed=3)
TWO = ["ab", "c"]
# name -> (signature, inputs (a list of strings, or {"text", "times"} made in the child), settings)
REQUESTS = {
    "beam_width 2**31-1": ("generate", TWO, dict(beam_width=2**31 - 1, num_results=2**31 - 1)),
    "beam_width 10000, 64 inputs": ("generate", [ALPHABET[i % 6] * (i % 5) for i in range(64)],
                                    dict(beam_width=10_000, num_results=10_000)),  # fmt: skip
    "num_results 10**6 sampling": ("generate", TWO, dict(SAMPLING, num_results=10**6)),
    "max_length 10**9": ("generate", TWO, dict(GREEDY, max_length=10**9)),
    "10**6-character prompt": ("serving_default", {"text": "ab", "times": 500_000}, None),
    "10**6-character prompt, generate": ("generate", {"text": "ab", "times": 500_000}, dict(BEAM)),
    "temperature NaN": ("generate", TWO, dict(GREEDY, temperature=NAN)),
    "temperature inf": ("generate", TWO, dict(GREEDY, temperature=INF)),
    "top_p NaN": ("generate", TWO, dict(SAMPLING, top_p=NAN)),
    "length_penalty NaN": ("generate", TWO, dict(BEAM, length_penalty=NAN)),
    "length_penalty inf": ("generate", TWO, dict(BEAM, length_penalty=INF)),
    "coverage_penalty inf": ("generate", TWO, dict(BEAM, coverage_penalty=INF)),
    "min_length 2**31-1, beam": ("generate", TWO, dict(BEAM, min_length=2**31 - 1)),
    "no_repeat_ngram_size 2**31-1, beam": ("generate", TWO, dict(BEAM, no_repeat_ngram_size=2**31 - 1)),
    "no_repeat_ngram_size -5": ("generate", TWO, dict(GREEDY, no_repeat_ngram_size=-5)),
    "min_length -5": ("generate", TWO, dict(GREEDY, min_length=-5)),
    "repetition_penalty NaN": ("generate", TWO, dict(GREEDY, repetition_penalty=NAN)),
    "repetition_penalty -1": ("generate", TWO, dict(SAMPLING, repetition_penalty=-1.0)),
    "repetition_penalty 0": ("generate", TWO, dict(SAMPLING, repetition_penalty=0.0)),
    "repetition_penalty 0.01": ("generate", TWO, dict(SAMPLING, repetition_penalty=0.01)),
    # (The requests travel in the child's command line: some 10 kB each at most.)
    "banned 3000 phrases, beam": ("generate", TWO, dict(BEAM, banned="\n".join(ALPHABET[i % 6] * (1 + i % 3) for i in range(3000)))),
    "banned unusable phrases": ("generate", TWO, dict(GREEDY, banned="\n\n\u00e9\u00e9\n" + "a" * 2000)),
    "2-D batch": ("serving_default", [["ab", "c"], ["a", "b"]], None),
    "2-D batch, generate": ("generate", [["ab", "c"], ["a", "b"]], dict(GREEDY)),
    # The references the non-finite requests must equal (their settings' defaults).
    "greedy": ("generate", TWO, dict(GREEDY)),
    "sampling top_p 1": ("generate", TWO, dict(SAMPLING, top_p=1.0)),
    "beam length_penalty 0.6": ("generate", TWO, dict(BEAM, length_penalty=0.6)),
    "beam coverage_penalty 0": ("generate", TWO, dict(BEAM, coverage_penalty=0.0)),
}

CHILD = textwrap.dedent("""
    import json, math, time
    import numpy as np
    import tensorflow as tf

    PATH, SETTINGS, REQUESTS = {path!r}, {settings!r}, json.loads({requests!r})

    def feeds_of(signature, inputs, settings):
        if isinstance(inputs, dict):
            inputs = [inputs["text"] * inputs["times"]]
        feeds = {{"inputs": np.array(inputs, dtype=object)}}
        if signature == "generate":
            for name, dtype in SETTINGS:
                feeds[name] = np.asarray(settings[name], dtype)
        return feeds

    def record(run, signature, feeds):
        start = time.perf_counter()
        try:
            out = run(signature, feeds)
        except Exception as error:
            return {{"error": type(error).__name__, "message": str(error)[:400],
                    "seconds": time.perf_counter() - start}}
        seconds = time.perf_counter() - start
        outputs = np.asarray(out["outputs"])
        answer = {{"shape": list(outputs.shape), "seconds": seconds,
                  "outputs": np.vectorize(lambda b: b.decode("utf-8", "replace"), otypes=[object])(outputs).tolist()}}
        if "scores" in out:
            answer["finite"] = bool(np.isfinite(out["scores"]).all())
        return answer

    results = {{}}
    loaded = tf.saved_model.load(PATH)
    results["stored limits"] = [int(loaded.max_beam_width.numpy()), int(loaded.max_num_results.numpy())]

    def tf2(signature, feeds):
        function = loaded.signatures[signature]
        return function(**{{key: tf.constant(value) for key, value in feeds.items()}})

    for name, (signature, inputs, settings) in REQUESTS.items():
        results["tf.saved_model.load " + name] = record(tf2, signature, feeds_of(signature, inputs, settings))

    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], PATH)

        def tf1(signature, feeds):
            signature_def = meta_graph.signature_def[signature]
            fetches = {{key: info.name for key, info in signature_def.outputs.items()}}
            return session.run(fetches, {{signature_def.inputs[key].name: value for key, value in feeds.items()}})

        for name, (signature, inputs, settings) in REQUESTS.items():
            results["TF1 loader " + name] = record(tf1, signature, feeds_of(signature, inputs, settings))
    print(json.dumps(results))
""")


def _request_settings(settings):
    """The full settings of a generate request: generate's defaults, max_length the model's limit."""
    if settings is None:
        return None
    settings = dict(settings)
    values = generate_settings(settings.pop("max_length", MAX_OUTPUT_LENGTH), **settings)
    return {name: value.item() for name, value in values.items()}


@functools.cache
def _exported():
    return recipes.export(_lm(), tempfile.mkdtemp())


@functools.cache
def _served():
    """{"LOADER NAME": the answer to request NAME through that loader, ...} from one limited child."""
    requests = {name: (signature, inputs, _request_settings(settings)) for name, (signature, inputs, settings)
                in REQUESTS.items()}  # fmt: skip
    settings = [(name, dtype.as_numpy_dtype.__name__) for name, dtype in GENERATE_SETTINGS]
    code = CHILD.format(path=_exported(), settings=settings, requests=json.dumps(requests))
    return run_limited(code, memory_gb=CHILD_MEMORY_GB, timeout_s=CHILD_TIMEOUT_S)


LOADERS = ("tf.saved_model.load", "TF1 loader")


def _answer(loader, name):
    return lambda: (_served()[f"{loader} {name}"], _served())


def _answered(shape):
    """A check: the request answered in time with outputs of ``shape``, and finite scores."""
    return lambda value: (
        "error" not in value[0] and value[0]["shape"] == shape and value[0].get("finite", True)
        and value[0]["seconds"] < REQUEST_SECONDS
    )  # fmt: skip


def _as(reference, loader):
    """A check: the request answered in time, finite, with the outputs of the ``reference`` request."""

    def check(value):
        answer, served = value
        expected = served[f"{loader} {reference}"]
        return _answered(expected["shape"])(value) and answer["outputs"] == expected["outputs"]

    return check


def _refused(loader):
    """A check: the 2-D batch was refused with an error that names ``inputs`` and its shape."""
    shape = "[2,2]" if loader == "tf.saved_model.load" else "(2, 2)"
    return lambda value: "error" in value[0] and "inputs" in value[0]["message"] and shape in value[0]["message"]


def _short_outputs(value):
    answer, _ = value
    return _answered([2, 1])(value) and all(len(row[0]) <= MAX_OUTPUT_LENGTH for row in answer["outputs"])


def _worst_requests(loader):
    return [
        answers(f"{loader}: beam_width 2**31-1 is clamped to 64", _answer(loader, "beam_width 2**31-1"),
                _answered([2, LIMIT])),  # fmt: skip
        answers(f"{loader}: beam_width 10000 for 64 inputs is clamped to 64",
                _answer(loader, "beam_width 10000, 64 inputs"), _answered([64, LIMIT])),  # fmt: skip
        answers(f"{loader}: num_results 10**6 sampling is clamped to 64", _answer(loader, "num_results 10**6 sampling"),
                _answered([2, LIMIT])),  # fmt: skip
        answers(f"{loader}: max_length 10**9 is the model's limit", _answer(loader, "max_length 10**9"), _short_outputs),
        answers(f"{loader}: a 10**6-character prompt is cut", _answer(loader, "10**6-character prompt"), _answered([1])),
        answers(f"{loader}: a 10**6-character prompt to generate is cut",
                _answer(loader, "10**6-character prompt, generate"), _answered([1, 2])),  # fmt: skip
        answers(f"{loader}: temperature NaN is the default (greedy)", _answer(loader, "temperature NaN"),
                _as("greedy", loader)),  # fmt: skip
        answers(f"{loader}: temperature inf is the default (greedy)", _answer(loader, "temperature inf"),
                _as("greedy", loader)),  # fmt: skip
        answers(f"{loader}: top_p NaN is the default 1", _answer(loader, "top_p NaN"), _as("sampling top_p 1", loader)),
        answers(f"{loader}: length_penalty NaN is the default 0.6", _answer(loader, "length_penalty NaN"),
                _as("beam length_penalty 0.6", loader)),  # fmt: skip
        answers(f"{loader}: length_penalty inf is the default 0.6", _answer(loader, "length_penalty inf"),
                _as("beam length_penalty 0.6", loader)),  # fmt: skip
        answers(f"{loader}: coverage_penalty inf is the default 0", _answer(loader, "coverage_penalty inf"),
                _as("beam coverage_penalty 0", loader)),  # fmt: skip
        answers(f"{loader}: min_length 2**31-1 is the model's limit", _answer(loader, "min_length 2**31-1, beam"),
                _answered([2, 2])),  # fmt: skip
        answers(f"{loader}: no_repeat_ngram_size 2**31-1 is the model's limit",
                _answer(loader, "no_repeat_ngram_size 2**31-1, beam"), _answered([2, 2])),  # fmt: skip
        answers(f"{loader}: no_repeat_ngram_size -5 is 0", _answer(loader, "no_repeat_ngram_size -5"), _as("greedy", loader)),
        answers(f"{loader}: min_length -5 is 0", _answer(loader, "min_length -5"), _as("greedy", loader)),
        answers(f"{loader}: repetition_penalty NaN is the default 1", _answer(loader, "repetition_penalty NaN"),
                _as("greedy", loader)),  # fmt: skip
        answers(f"{loader}: repetition_penalty -1 is 0.01", _answer(loader, "repetition_penalty -1"),
                _as("repetition_penalty 0.01", loader)),  # fmt: skip
        answers(f"{loader}: repetition_penalty 0 is 0.01", _answer(loader, "repetition_penalty 0"),
                _as("repetition_penalty 0.01", loader)),  # fmt: skip
        answers(f"{loader}: 3000 banned phrases are cut to the first 256", _answer(loader, "banned 3000 phrases, beam"),
                _answered([2, 2])),  # fmt: skip
        answers(f"{loader}: empty, unknown and over-long banned phrases are ignored",
                _answer(loader, "banned unusable phrases"), _as("greedy", loader)),  # fmt: skip
        answers(f"{loader}: a 2-D batch to serving_default is refused", _answer(loader, "2-D batch"), _refused(loader)),
        answers(f"{loader}: a 2-D batch to generate is refused", _answer(loader, "2-D batch, generate"),
                _refused(loader)),  # fmt: skip
    ]


EXPORT_CASES = [
    answers("the export stores its limits, 64 and 64", lambda: _served()["stored limits"], lambda v: v == [LIMIT, LIMIT]),
    *_worst_requests("tf.saved_model.load"),
    *_worst_requests("TF1 loader"),
]

CASES = DECODING_CASES + PROMPT_CASES + PREDICT_CASES + EXPORT_ARGUMENT_CASES + EXPORT_CASES


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input(case):
    expect_clear(case)

