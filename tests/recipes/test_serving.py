"""Serving-grade export of every recipe, checked the way TensorFlow Serving reads it.

Every recipe, tiny and untrained, is exported once (a module fixture), text_classifier twice (word
and WordPiece tokens). One fresh process that imports nothing but TensorFlow (and TensorFlow Text,
only before it loads the WordPiece export) loads each export through the TF1 session loader (the
path TF Serving takes), feeds the signature inputs by tensor name, and returns the outputs, which must
equal the Python model's (exact strings, numbers to 1e-5): on ordinary inputs, on inputs much
longer than the model's limit (which must serve, cut by the rule in ``recipes/serving/saved_model.py``), and on
the warm-up requests decoded from ``assets.extra/tf_serving_warmup_requests``. ``saved_model_cli
run`` answers for one export too.
"""

import os
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from tensorflow.core.framework import tensor_pb2

from toy_recipes import trained_toy

from seqrecipes import data, recipes
from seqrecipes.recipes.decoding import scoring
from seqrecipes.recipes.serving import warmup
from seqrecipes.recipes.serving.signatures import GENERATE_SETTINGS


WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran"]
TAGS = ["O", "B-PER", "B-LOC"]
ALPHABET = "abcdef"
MAX_LENGTH = 8  # text_classifier / sequence_tagger / masked_language_model max_length
MAX_SOURCE_LENGTH = 12  # encoder-decoders
CONTEXT_SIZE = 3  # window_language_model
NGRAM_ORDER = 3  # ngram_language_model: a prompt's last 2 words are its history
GPT_CONTEXT, GPT_OUTPUTS = 16, 8  # transformer_language_model: a prompt is read as its last 16 - 8 + 1 ids
INPUT_LENGTH = 12  # sequence_regressor
IMAGE_SIZE = 16
SUBWORD = "text_classifier_subword"  # a text_classifier with a WordPiece tokenizer (TensorFlow Text ops)
FINE_TUNED = "text_classifier_fine_tuned"  # a text_classifier on a GPT body (recipes.fine_tune)

LONG_WORDS = [WORDS[i % len(WORDS)] for i in range(7 * 50)]  # 350 word tokens, over every word limit
LONG_CHARS = (ALPHABET * 60)[:300]  # 300 character tokens, over every character limit
WORD_TEXTS = ["the cat sat", "", "a dog ran on the mat", "zebra", "cat"]
CHAR_TEXTS = ["abc", "", "fedcba", "ab?", "eeee"]


def _recipe(name):
    return "text_classifier" if name in (SUBWORD, FINE_TUNED) else name


def _word_tokenizer():
    return data.WordTokenizer(vocabulary=WORDS, split_punctuation=False)


def _char_tokenizer():
    return data.CharTokenizer(vocabulary=list(ALPHABET))


def _build():
    """Every recipe, tiny and untrained (the sizes of the recipes' own tests)."""
    keras.utils.set_random_seed(0)
    words, chars = _word_tokenizer(), _char_tokenizer()
    encoder_decoder = dict(max_source_length=MAX_SOURCE_LENGTH, max_target_length=9, source_tokenizer=chars,
                           target_tokenizer=chars)  # fmt: skip
    captions = data.WordTokenizer(vocabulary=["red", "blue", "circle", "square", "small", "big"])
    return {
        "window_language_model": recipes.window_language_model(
            context_size=CONTEXT_SIZE, embedding_dim=8, units=16, direct_connections=True, max_output_length=8,
            text_tokenizer=words,
        ),  # fmt: skip
        "rnn_language_model": recipes.rnn_language_model(
            units=16, embedding_dim=8, max_output_length=10, text_tokenizer=chars
        ),
        "bidirectional_language_model": recipes.bidirectional_language_model(
            units=8, embedding_dim=8, num_layers=1, max_output_length=10, text_tokenizer=chars
        ),
        "word2vec": recipes.word2vec(embedding_dim=8, window=2, negative_samples=2, text_tokenizer=words),
        "ngram_language_model": recipes.ngram_language_model(
            [" ".join(WORDS), "the cat sat on the mat", "a dog ran"], order=NGRAM_ORDER, max_output_length=8,
            text_tokenizer=words,
        ),  # fmt: skip
        "transformer_language_model": recipes.transformer_language_model(
            num_layers=1, num_heads=2, hidden_dim=8, max_length=GPT_CONTEXT, max_output_length=GPT_OUTPUTS,
            text_tokenizer=chars,
        ),  # fmt: skip
        "sequence_tagger": recipes.sequence_tagger(
            max_length=MAX_LENGTH, units=8, embedding_dim=8, text_tokenizer=words, tags_tokenizer=TAGS
        ),
        "masked_language_model": recipes.masked_language_model(
            num_layers=1, num_heads=2, hidden_dim=8, max_length=MAX_LENGTH, text_tokenizer=_word_tokenizer().add_mask_token()
        ),
        "text_classifier": recipes.text_classifier(
            max_length=MAX_LENGTH, encoder="transformer", pooling="mean", units=8, embedding_dim=8, num_heads=2,
            intermediate_dim=8, text_tokenizer=words,
            labels_tokenizer=data.WordTokenizer(vocabulary=["negative", "positive"]),
        ),  # fmt: skip
        SUBWORD: recipes.text_classifier(
            max_length=MAX_LENGTH, encoder="rnn", pooling="last", cell="gru", units=8, embedding_dim=8,
            text_tokenizer=data.SubwordTokenizer(vocabulary=WORDS + ["z", "##e", "##b", "##r", "##a"]),
            label_names=["negative", "positive"],
        ),  # fmt: skip
        FINE_TUNED: recipes.fine_tune(
            recipes.transformer_language_model(num_layers=1, num_heads=2, hidden_dim=8, max_length=GPT_CONTEXT, text_tokenizer=words),
            "text_classifier", max_length=MAX_LENGTH, pooling="last", label_names=["negative", "positive"],
        ),  # fmt: skip
        "sequence_regressor": recipes.sequence_regressor(input_length=INPUT_LENGTH, horizon=3, units=8),
        "seq2seq": recipes.seq2seq(
            cell="lstm", units=16, embedding_dim=8, reverse_source=True, context_every_step=True, **encoder_decoder
        ),
        "seq2seq_attention": recipes.seq2seq_attention(
            cell="gru", units=16, embedding_dim=8, attention="bahdanau", **encoder_decoder
        ),
        "transformer_seq2seq": recipes.transformer_seq2seq(
            num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, **encoder_decoder
        ),
        "image_captioner": recipes.image_captioner(
            image_height=IMAGE_SIZE, image_width=IMAGE_SIZE, filters=[8, 16], embedding_dim=8, units=16,
            attention_units=8, max_output_length=8, target_tokenizer=captions,
        ),  # fmt: skip
    }


def _series():
    rng = np.random.default_rng(0)
    return rng.normal(size=(3, 40)).astype("float32")  # longer than input_length


def _images():
    rng = np.random.default_rng(1)
    return rng.uniform(size=(3, IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")


def _strings(values):
    return np.asarray([v.encode() for v in values], object)


def _serving_cases():
    """recipe -> (input name, ordinary inputs + one over-long input, the over-long input cut by the
    documented rule), the long one last."""
    long_words, long_chars = " ".join(LONG_WORDS), LONG_CHARS
    encoder_decoder = ("inputs", _strings(CHAR_TEXTS + [long_chars]), _strings([long_chars[:MAX_SOURCE_LENGTH]]))
    series = _series()
    first_words = _strings([" ".join(LONG_WORDS[:MAX_LENGTH])])
    return {
        # [START] + tokens, the last CONTEXT_SIZE ids: the prompt's last CONTEXT_SIZE words.
        "window_language_model": ("inputs", _strings(WORD_TEXTS + [long_words]),
                                  _strings([" ".join(LONG_WORDS[-CONTEXT_SIZE:])])),  # fmt: skip
        "rnn_language_model": ("inputs", _strings(CHAR_TEXTS + [long_chars]), None),  # under its 4096-id prompt limit
        "bidirectional_language_model": ("inputs", _strings(CHAR_TEXTS + [long_chars]), None),  # the forward LM's decoder
        "word2vec": ("inputs", _strings(WORDS[:3] + ["zebra", "", long_words]), None),  # one word each, looked up whole
        "ngram_language_model": ("inputs", _strings(WORD_TEXTS + [long_words]),
                                 _strings([" ".join(LONG_WORDS[1 - NGRAM_ORDER :])])),  # fmt: skip
        # [START] + tokens, the last GPT_CONTEXT - GPT_OUTPUTS + 1 ids: that many last characters.
        "transformer_language_model": ("inputs", _strings(CHAR_TEXTS + [long_chars]),
                                       _strings([long_chars[GPT_OUTPUTS - GPT_CONTEXT - 1 :]])),  # fmt: skip
        "sequence_tagger": ("inputs", _strings(WORD_TEXTS + [long_words]), first_words),
        "masked_language_model": ("inputs", _strings(WORD_TEXTS + ["the [MASK] sat", long_words]), first_words),
        "text_classifier": ("inputs", _strings(WORD_TEXTS + [long_words]), first_words),
        SUBWORD: ("inputs", _strings(WORD_TEXTS + [long_words]), first_words),
        FINE_TUNED: ("inputs", _strings(WORD_TEXTS + [long_words]), first_words),
        "sequence_regressor": ("series", series, series[-1:, -INPUT_LENGTH:]),
        "seq2seq": encoder_decoder,
        "seq2seq_attention": encoder_decoder,
        "transformer_seq2seq": encoder_decoder,
        "image_captioner": ("images", _images(), None),  # the signature fixes the image size
    }


# ------------------------------------------------------------------------------------------------
# TF Serving's warm-up protos, built from their field numbers (tensorflow_serving/apis/model.proto,
# predict.proto, prediction_log.proto) with protobuf's descriptor machinery: an independent reader
# of what export writes by hand.


def _serving_message_classes():
    pool = descriptor_pool.DescriptorPool()
    added = set()

    def add(file_descriptor):
        for dependency in file_descriptor.dependencies:
            add(dependency)
        if file_descriptor.name not in added:
            proto = descriptor_pb2.FileDescriptorProto()
            file_descriptor.CopyToProto(proto)
            pool.Add(proto)
            added.add(file_descriptor.name)

    add(tensor_pb2.DESCRIPTOR)
    F = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="tensorflow_serving/apis/warmup_subset.proto",
        package="tensorflow.serving",
        syntax="proto3",
        dependency=[tensor_pb2.DESCRIPTOR.name],
    )

    def message(name, fields, nested=()):
        m = proto.message_type.add(name=name)
        m.nested_type.extend(nested)
        for field_name, number, kind, type_name, label in fields:
            m.field.add(name=field_name, number=number, type=kind, type_name=type_name, label=label)

    optional, repeated = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    map_entry = descriptor_pb2.MessageOptions(map_entry=True)
    inputs_entry = descriptor_pb2.DescriptorProto(name="InputsEntry", options=map_entry)
    inputs_entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=optional)
    inputs_entry.field.add(
        name="value", number=2, type=F.TYPE_MESSAGE, type_name=".tensorflow.TensorProto", label=optional
    )
    message(
        "ModelSpec", [("name", 1, F.TYPE_STRING, None, optional), ("signature_name", 3, F.TYPE_STRING, None, optional)]
    )
    message(
        "PredictRequest",
        [("model_spec", 1, F.TYPE_MESSAGE, ".tensorflow.serving.ModelSpec", optional),
         ("inputs", 2, F.TYPE_MESSAGE, ".tensorflow.serving.PredictRequest.InputsEntry", repeated)],  # fmt: skip
        nested=[inputs_entry],
    )
    message("PredictLog", [("request", 1, F.TYPE_MESSAGE, ".tensorflow.serving.PredictRequest", optional)])
    message("PredictionLog", [("predict_log", 6, F.TYPE_MESSAGE, ".tensorflow.serving.PredictLog", optional)])
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tensorflow.serving.PredictionLog"))


PredictionLog = _serving_message_classes()


def _read_warmup(path):
    """[(model name, signature name, {input: array})] from an export's warm-up file."""
    requests = []
    for record in tf.data.TFRecordDataset(os.path.join(path, warmup.WARMUP_FILE)).as_numpy_iterator():
        log = PredictionLog.FromString(record)
        request = log.predict_log.request
        inputs = {key: tf.make_ndarray(tensor_pb2.TensorProto.FromString(value.SerializeToString()))
                  for key, value in request.inputs.items()}  # fmt: skip
        requests.append((request.model_spec.name, request.model_spec.signature_name, inputs))
    return requests


# ------------------------------------------------------------------------------------------------
# The Python side: each signature's function called eagerly on the model.


def _python_outputs(model, signature, feeds):
    if signature == "generate":
        return _python_generate(model, feeds)
    if signature == "score":
        raw = feeds["images" if "images" in feeds else "inputs"]
        targets = tf.constant(feeds["targets"]) if "targets" in feeds else None
        return {key: np.asarray(tensor) for key, tensor in scoring.score_raw(model, tf.constant(raw), targets).items()}
    assert signature == "serving_default", signature
    (value,) = feeds.values()
    outputs = model.info.serving_function(model)(tf.constant(value))
    return {key: np.asarray(tensor) for key, tensor in outputs.items()}


def _python_generate(model, feeds):
    """recipes.generate with Python-number settings; a max_length over the model's limit is the
    limit (the documented clamp)."""
    decoder = model.decoder
    settings = {name: feeds[name].item() for name, _ in GENERATE_SETTINGS}
    settings["max_length"] = min(settings["max_length"], decoder.max_length)
    if type(decoder).alignments is recipes.Decoder.alignments:  # no attention: the export ignores it
        settings["coverage_penalty"] = 0.0
    # Phrases as the export reads them (a string tensor: the unusable ones ignored); Python strings are checked.
    settings["banned"] = tf.constant(feeds["banned"])
    (raw,) = [value for key, value in feeds.items() if key not in settings]
    settings["alignments"] = tf.constant(settings["alignments"])  # as the export: (B, N, 0, S) when off
    result = recipes.generate(decoder, decoder.inputs_from_raw(tf.constant(raw)), **settings)
    outputs = {"outputs": decoder.detokenize(result["ids"]).numpy(), "scores": result["scores"].numpy()}  # (B, N)
    if "alignments" in result:
        outputs["alignments"] = result["alignments"].numpy()  # (B, N, L, S)
    return outputs


GREEDY = dict(beam_width=1, num_results=1, temperature=0.0, top_k=0, top_p=1.0, seed=0, length_penalty=0.6,
              coverage_penalty=0.0, min_length=0, no_repeat_ngram_size=0, repetition_penalty=1.0, banned="",
              alignments=False)  # fmt: skip
# Banned phrases for the word and the character tokenizers: each export ignores those it cannot write.
BANNED = "the\ncat sat\nab\nc\nzzz-unknown"
CONTROLS = dict(min_length=3, no_repeat_ngram_size=2, repetition_penalty=1.5, banned=BANNED)
GENERATE_REQUESTS = {
    "greedy": GREEDY,
    "beam search": dict(GREEDY, beam_width=3, num_results=2, length_penalty=0.6, coverage_penalty=0.2),
    "sampling": dict(GREEDY, num_results=2, temperature=0.8, top_k=3, top_p=0.9, seed=5),
    "max_length over the limit": dict(GREEDY, max_length=1000),
    "beam search with controls": dict(GREEDY, beam_width=3, num_results=2, alignments=True, **CONTROLS),
    "sampling with controls": dict(GREEDY, num_results=2, temperature=0.8, seed=5, **dict(CONTROLS, repetition_penalty=0.7)),
}


def _generate_feeds(model, key, raw, settings):
    settings = {"max_length": model.decoder.max_length, **settings}
    feeds = {key: raw}
    for name, dtype in GENERATE_SETTINGS:
        feeds[name] = np.asarray(settings[name], dtype.as_numpy_dtype)
    return feeds


# One process, TensorFlow only: every job through the TF1 session loader, one session per export.
LOADER_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf

    def foreign():
        return sorted({name.split(".")[0] for name in sys.modules} & {"seqrecipes", "keras_hub", "tensorflow_text"})

    jobs = np.load(sys.argv[1], allow_pickle=True)["jobs"]
    text_paths = sys.argv[3:]  # exports with TensorFlow Text ops: loaded last, after import tensorflow_text
    by_path = {}
    for index, (path, signature, feeds) in enumerate(jobs):
        by_path.setdefault(path, []).append((index, signature, feeds))
    outputs, modules, without_text = [None] * len(jobs), {}, "loaded"
    for path in sorted(by_path, key=lambda path: path in text_paths):
        if path in text_paths and "tensorflow_text" not in sys.modules:
            modules["core exports"] = foreign()
            try:  # without TensorFlow Text the loader must refuse it
                with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
                    tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
            except Exception as error:
                without_text = type(error).__name__
            import tensorflow_text  # noqa: F401
        with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
            meta_graph = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
            for index, signature, feeds in by_path[path]:
                signature_def = meta_graph.signature_def[signature]
                feed_dict = {signature_def.inputs[key].name: value for key, value in feeds.items()}
                fetches = {key: info.name for key, info in signature_def.outputs.items()}
                outputs[index] = sess.run(fetches, feed_dict)
    modules["all exports"] = foreign()
    np.savez(sys.argv[2], outputs=np.array(outputs, dtype=object), modules=np.array(modules, dtype=object),
             without_text=np.array(without_text))
""")


def _start(command):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process):
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    return stdout


def _start_loader(jobs, directory, text_paths):
    jobs_file, outputs_file = os.path.join(directory, "jobs.npz"), os.path.join(directory, "outputs.npz")
    packed = np.empty(len(jobs), dtype=object)
    packed[:] = [tuple(job) for job in jobs]
    np.savez(jobs_file, jobs=packed)
    return _start([sys.executable, "-c", LOADER_SCRIPT, jobs_file, outputs_file, *text_paths]), outputs_file


def _start_saved_model_cli(path, signature, input_exprs):
    binary = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    return _start([binary, "run", "--dir", path, "--tag_set", "serve", "--signature_def", signature,
                   "--input_exprs", input_exprs])  # fmt: skip


def _printed_results(stdout):
    """saved_model_cli's 'Result for output key KEY:\nVALUE' blocks -> {KEY: VALUE text}."""
    blocks = re.split(r"^Result for output key (\w+):\n", stdout, flags=re.M)[1:]
    return {key: value.strip() for key, value in zip(blocks[::2], blocks[1::2])}


# saved_model_cli requests: (recipe, signature, inputs); each is also a job of the Python side.
CLI_TEXTS = ["the cat sat", "a dog ran on the mat"]
CLI_SETTINGS = dict(GENERATE_REQUESTS["beam search"], max_length=9)


def _cli_requests(models):
    generate_feeds = _generate_feeds(models["seq2seq_attention"], "inputs", _strings(["abc", "fedcba"]), CLI_SETTINGS)
    generate_exprs = ";".join(
        [f"inputs={['abc', 'fedcba']!r}"] + [f"{name}={value!r}" for name, value in CLI_SETTINGS.items()]
    )
    return {
        "text": ("text_classifier", "serving_default", {"inputs": _strings(CLI_TEXTS)}, f"inputs={CLI_TEXTS!r}"),
        "generate": ("seq2seq_attention", "generate", generate_feeds, generate_exprs),
    }


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("serving")
    models = _build()
    paths = {name: recipes.export(model, str(root / name)) for name, model in models.items()}
    return models, paths, root


@pytest.fixture(scope="module")
def served(exported):
    """Every job (recipe, kind, signature, feeds) served by one TensorFlow-only process through the
    TF1 loader, and by the Python model meanwhile; the saved_model_cli runs beside them."""
    models, paths, root = exported
    jobs = []
    for name, (key, inputs, cut) in _serving_cases().items():
        jobs.append((name, "ordinary and long", "serving_default", {key: inputs}))
        if cut is not None:
            jobs.append((name, "cut by the rule", "serving_default", {key: cut}))
        for _, signature, feeds in _read_warmup(paths[name]):
            jobs.append((name, f"warm-up {signature}", signature, feeds))
        if models[name].info.decoder is not None:
            for kind, settings in GENERATE_REQUESTS.items():
                jobs.append((name, kind, "generate", _generate_feeds(models[name], key, inputs, settings)))
    loader, outputs_file = _start_loader(
        [(paths[name], sig, feeds) for name, _, sig, feeds in jobs], str(root), [paths[SUBWORD]]
    )
    cli_requests = _cli_requests(models)
    cli = {kind: _start_saved_model_cli(paths[n], sig, exprs) for kind, (n, sig, _, exprs) in cli_requests.items()}
    expected = [_python_outputs(models[name], signature, feeds) for name, _, signature, feeds in jobs]
    cli_expected = {kind: _python_outputs(models[n], sig, feeds) for kind, (n, sig, feeds, _) in cli_requests.items()}
    cli_printed = {kind: _printed_results(_finish(process)) for kind, process in cli.items()}
    _finish(loader)
    result = np.load(outputs_file, allow_pickle=True)
    return {
        "jobs": jobs, "outputs": list(result["outputs"]), "expected": expected, "modules": result["modules"].item(),
        "without_text": str(result["without_text"]), "cli_printed": cli_printed, "cli_expected": cli_expected,
    }  # fmt: skip


def _of(served, name, kinds=None):
    """{kind: (served output, Python output)} of a recipe's jobs (of the given kinds)."""
    return {
        kind: (output, expected)
        for (job_name, kind, _, _), output, expected in zip(served["jobs"], served["outputs"], served["expected"])
        if job_name == name and (kinds is None or kind in kinds)
    }


def _assert_outputs_equal(served, expected, context):
    assert sorted(served) == sorted(expected), context
    for key, value in expected.items():
        got = np.asarray(served[key])
        assert got.shape == value.shape, (context, key, got.shape, value.shape)
        if value.dtype == object or value.dtype.kind in "SUi":
            np.testing.assert_array_equal(got, value, err_msg=f"{context} {key}")
        else:
            np.testing.assert_allclose(got, value, rtol=1e-5, atol=1e-5, err_msg=f"{context} {key}")


def _signature_defs(path):
    """The signature defs TF Serving reads, from saved_model.pb (TensorFlow's internal ones left out)."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    (meta_graph,) = saved_model.meta_graphs
    return {name: s for name, s in meta_graph.signature_def.items() if not name.startswith("__")}


# ------------------------------------------------------------------------------------------------
# Tests.

GENERATING = [name for name in _serving_cases() if recipes.get_recipe(_recipe(name)).decoder is not None]


def test_the_loader_process_imported_nothing_but_tensorflow(served):
    """TensorFlow alone serves the core-op exports; the subword export needs (only) TensorFlow Text."""
    assert served["modules"] == {"core exports": [], "all exports": ["tensorflow_text"]}
    assert served["without_text"] != "loaded"  # the op is not registered without tensorflow_text


@pytest.mark.parametrize("name", list(_serving_cases()))
def test_tf1_loader_serves_what_the_python_model_gives(served, name):
    """Every signature, on ordinary and over-long inputs, the cut inputs and the warm-up requests."""
    jobs = _of(served, name)
    cut = _serving_cases()[name][2] is not None
    assert len(jobs) == 1 + cut + (3 + len(GENERATE_REQUESTS) if name in GENERATING else 1)  # warm-ups: 3 signatures
    for kind, (output, expected) in jobs.items():
        _assert_outputs_equal(output, expected, f"{name} {kind}")


@pytest.mark.parametrize("name", [name for name, case in _serving_cases().items() if case[2] is not None])
def test_over_long_inputs_serve_cut_by_the_documented_rule(served, name):
    """The long input (last row) serves and answers exactly as its cut form does."""
    jobs = _of(served, name, kinds=("ordinary and long", "cut by the rule"))
    (long, _), (cut, _) = jobs["ordinary and long"], jobs["cut by the rule"]
    for key in cut:
        long_row, cut_row = np.asarray(long[key])[-1:], np.asarray(cut[key])  # (1, ...) each
        if key == "tags":  # (B, T) padded with "" to the batch's longest row: max_length tags for both
            assert long_row.shape == cut_row.shape == (1, MAX_LENGTH)
            allowed = TAGS if name == "sequence_tagger" else WORDS  # a masked LM's tags are its words
            assert set(long_row.ravel()) <= {t.encode() for t in allowed}
        if long_row.dtype == object:
            np.testing.assert_array_equal(long_row, cut_row)
        else:
            np.testing.assert_allclose(long_row, cut_row, rtol=1e-5, atol=1e-6)


def test_generating_recipes_export_both_signatures(exported):
    models, paths, _ = exported
    assert GENERATING == ["window_language_model", "rnn_language_model", "bidirectional_language_model", "ngram_language_model",
                          "transformer_language_model", "seq2seq", "seq2seq_attention", "transformer_seq2seq", "image_captioner"]  # fmt: skip
    for name, path in paths.items():
        signatures = _signature_defs(path)
        assert sorted(signatures) == (["generate", "score", "serving_default"] if name in GENERATING else ["serving_default"])
        if name in GENERATING:
            generate = signatures["generate"]
            settings = {key: tf.as_dtype(generate.inputs[key].dtype) for key in generate.inputs}
            raw = "images" if name == "image_captioner" else "inputs"
            raw_dtype = tf.float32 if raw == "images" else tf.string
            assert settings == {raw: raw_dtype, **dict(GENERATE_SETTINGS)}
            assert all(len(generate.inputs[key].tensor_shape.dim) == 0 for key in settings if key != raw)
            attends = name in ("seq2seq_attention", "transformer_seq2seq", "image_captioner")
            assert sorted(generate.outputs) == (["alignments"] if attends else []) + ["outputs", "scores"]


@pytest.mark.parametrize("name", GENERATING)
def test_generate_signature_gives_the_n_best_strings_and_scores(served, name):
    by_kind = {kind: output for kind, (output, _) in _of(served, name, kinds=GENERATE_REQUESTS).items()}
    assert sorted(by_kind) == sorted(GENERATE_REQUESTS)
    (default, _) = _of(served, name, kinds=("ordinary and long",))["ordinary and long"]
    batch = len(default["outputs"])
    for kind, settings in GENERATE_REQUESTS.items():
        assert by_kind[kind]["outputs"].shape == by_kind[kind]["scores"].shape == (batch, settings["num_results"])
    # Greedy through `generate` is serving_default; a max_length over the limit is the limit.
    np.testing.assert_array_equal(by_kind["greedy"]["outputs"][:, 0], default["outputs"])
    np.testing.assert_array_equal(by_kind["max_length over the limit"]["outputs"], by_kind["greedy"]["outputs"])
    # Beam search returns its n-best best first; the scores of greedy and sampling are log-probabilities.
    beam = by_kind["beam search"]["scores"]
    assert np.all(beam[:, 0] >= beam[:, 1])
    assert np.all(by_kind["greedy"]["scores"] <= 0) and np.all(by_kind["sampling"]["scores"] <= 0)
    # Decoders with attention: alignments when asked ((B, N, L, S), each written token's weights a
    # distribution, or all 0 after the end), an empty (B, N, 0, S) when not.
    if "alignments" in by_kind["greedy"]:
        assert by_kind["greedy"]["alignments"].shape[:3] == (batch, 1, 0)
        aligned = by_kind["beam search with controls"]["alignments"]
        assert aligned.shape[:2] == (batch, 2) and aligned.shape[3] == by_kind["greedy"]["alignments"].shape[3]
        sums = aligned.sum(-1)
        assert np.all((np.abs(sums - 1) < 1e-4) | (sums == 0)) and np.any(sums > 0.5)


def test_every_export_holds_one_warmup_request_per_signature(exported):
    models, paths, _ = exported
    for name, path in paths.items():
        requests = _read_warmup(path)
        signature_defs = _signature_defs(path)
        assert [signature for _, signature, _ in requests] == sorted(signature_defs), name
        for model_name, signature, inputs in requests:
            assert model_name == name
            signature_inputs = signature_defs[signature].inputs
            assert sorted(inputs) == sorted(signature_inputs)
            for key, value in inputs.items():
                assert tf.as_dtype(signature_inputs[key].dtype) == tf.as_dtype(value.dtype), (name, key)
                assert 0 < value.size <= 2 * IMAGE_SIZE * IMAGE_SIZE * 3, (name, key, value.shape)


def test_warmup_requests_replay_through_the_tf1_loader(exported, served):
    replayed = {}
    for name in exported[0]:
        jobs = _of(served, name, kinds=("warm-up serving_default", "warm-up generate", "warm-up score"))
        for kind, (output, expected) in jobs.items():
            _assert_outputs_equal(output, expected, f"{name} {kind}")
        replayed[name] = sorted(kind.split()[-1] for kind in jobs)
    assert replayed == {name: (["generate", "score", "serving_default"] if name in GENERATING else ["serving_default"])
                        for name in exported[0]}  # fmt: skip


def test_warmup_records_are_what_tensorflow_serving_expects_byte_for_byte():
    """The hand encoding against a reference encoding built from the descriptor-made classes."""
    inputs = {"inputs": np.asarray([b"a", b""], object), "beam_width": np.asarray(2, np.int32)}
    written = warmup.predict_log("dates", "generate", inputs)
    log = PredictionLog()
    request = log.predict_log.request
    request.model_spec.name, request.model_spec.signature_name = "dates", "generate"
    for key in sorted(inputs):
        request.inputs[key].CopyFrom(
            type(request.inputs[key]).FromString(tf.make_tensor_proto(inputs[key]).SerializeToString())
        )
    assert PredictionLog.FromString(written) == log
    assert written == log.SerializeToString(deterministic=True)


@pytest.mark.parametrize("kind", ["text", "generate"])
def test_saved_model_cli_run_prints_the_python_models_outputs(served, kind):
    printed, expected = served["cli_printed"][kind], served["cli_expected"][kind]
    assert sorted(printed) == sorted(expected)
    for key, value in expected.items():
        if value.dtype == object or value.dtype.kind == "i":
            assert printed[key] == str(value), key
        else:
            numbers = np.array(re.findall(r"[-0-9.e]+", printed[key]), float).reshape(value.shape)
            np.testing.assert_allclose(numbers, value, rtol=1e-5, atol=1e-5)


def test_extra_signatures_are_exported_warmed_up_and_served(tmp_path):
    """Warm-up requests cover extra signatures too; one of unknown input rank is left out with a warning."""
    model = recipes.sequence_regressor(input_length=INPUT_LENGTH, units=8, mean=[0.0], variance=[1.0])
    series_spec = tf.TensorSpec([None, None], tf.float32, name="series")
    double = tf.function(lambda series: {"twice": 2.0 * series}, input_signature=[series_spec])
    any_rank = tf.TensorSpec(None, tf.float32, name="values")
    anything = tf.function(lambda values: {"same": tf.identity(values)}, input_signature=[any_rank])
    with pytest.warns(UserWarning, match=r"No warm-up request for signature 'anything'"):
        path = recipes.export(model, str(tmp_path / "extra"), extra_signatures={"double": double, "anything": anything})
    requests = _read_warmup(path)
    assert [signature for _, signature, _ in requests] == ["double", "serving_default"]
    (_, _, feeds), _ = requests
    assert feeds["series"].shape == (1, 8) and not feeds["series"].any()
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        signature_def = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path).signature_def["double"]
        series = np.arange(6, dtype=np.float32).reshape(2, 3)
        twice = sess.run(signature_def.outputs["twice"].name, {signature_def.inputs["series"].name: series})
    np.testing.assert_array_equal(twice, 2 * series)


# ------------------------------------------------------------------------------------------------
# Numbered versions, and predict: the serving function in Python.


def test_export_writes_numbered_versions_that_plain_tensorflow_serves(tmp_path):
    model, tokenizer, x = trained_toy()
    base = str(tmp_path / "toy")
    first = recipes.export(model, base)
    second = recipes.export(model, base)
    assert first.endswith(os.path.join("toy", "1")) and second.endswith(os.path.join("toy", "2"))
    assert sorted(os.listdir(os.path.join(first, "assets"))) == ["text.vocab"]
    expected = np.asarray(model(x))
    script = textwrap.dedent(
        f"""
        import numpy as np, tensorflow as tf
        served = tf.saved_model.load({first!r}).signatures["serving_default"]
        out = served(inputs=tf.constant(["abc", "gfe", "aab", "ggf"]))
        np.save({str(tmp_path / "scores.npy")!r}, out["scores"].numpy())
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300)
    np.testing.assert_allclose(np.load(tmp_path / "scores.npy"), expected, atol=1e-5)
    with pytest.raises(ValueError, match="a RecipeModel"):
        recipes.export(keras.Sequential([keras.layers.Dense(1)]), base)


def test_predict_runs_the_serving_function_in_batches():
    model, tokenizer, _ = trained_toy()
    strings = ["abc", "gfe", "aab", "ggf", "a"]
    out = recipes.predict(model, strings, batch_size=2)
    ids = tokenizer.tokenize(strings).to_tensor(shape=[None, 8])
    np.testing.assert_allclose(out["scores"], np.asarray(model(ids)), atol=1e-6)
    np.testing.assert_array_equal(out["label_id"], np.argmax(out["scores"], axis=-1))
    with pytest.raises(ValueError, match="Received: inputs=\\[\\]"):
        recipes.predict(model, [])
    with pytest.raises(ValueError, match="serving function"):
        recipes.predict(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), strings)


def test_predict_takes_float_series_for_forecasting_recipes():
    model = recipes.get_recipe("sequence_regressor").function(input_length=6, units=4, mean=[0.0], variance=[1.0])
    series = np.random.default_rng(0).normal(size=(5, 9)).astype("float32")
    out = recipes.predict(model, series, batch_size=2)
    np.testing.assert_allclose(out["forecast"], np.asarray(model(series[:, -6:, None])), atol=1e-5)
    with pytest.raises(ValueError, match=r"\(B, T\) series. Received: shape=\(9,\)"):
        recipes.predict(model, series[0])
