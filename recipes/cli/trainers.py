"""How ``seqrecipes train`` and ``evaluate`` turn a named data set into examples, tokenizers, batches and
scores, for each ``trainer`` a recipe's registry entry names.

    text_pairs       (source, target) string pairs -> character tokenizers, ``data.seq2seq_batches``;
                     scored by exact match and sacreBLEU (with its signature) of the greedy outputs
    classification   (text, label id) pairs -> a word tokenizer, token-id batches; scored by accuracy and
                     macro-F1
    tagging          (tokens, tag ids) sentences -> ``data.tagging_batches``; scored by per-tag and macro F1
    text             lines of text -> character tokenizer, ``[START] w`` / ``w [END]`` batches; scored by
                     the compiled perplexity

A recipe's data sets (``RecipeInfo.datasets``) are ``seqrecipes.data`` functions made in code or
TensorFlow Datasets names (``TFDS_SPLITS``), read from ``--data-dir`` (prepared beforehand; ``--download``
lets TFDS fetch them).
"""

import numpy as np
import tensorflow as tf
from sklearn.metrics import f1_score

from seqrecipes import data
from seqrecipes.recipes.cli.errors import CommandError
from seqrecipes.recipes.cli.files import make_tokenizer
from seqrecipes.recipes.many_to_many.sequence_tagger import predict_tags
from seqrecipes.recipes.serving.predictions import predict
from seqrecipes.recipes.training import metrics
from seqrecipes.recipes.training.bleu import sacre_bleu

# (training split, held-out split) of each TensorFlow Datasets name.
TFDS_SPLITS = {
    "imdb_reviews": ("train", "test"),
    "glue/sst2": ("train", "validation"),
    "ag_news_subset": ("train", "test"),
    "ted_hrlr_translate/pt_to_en": ("train", "test"),
    "conll2003": ("train", "test"),
    "tiny_shakespeare": ("train", "test"),
}
PAD_MULTIPLE = 16  # the batches of a model with a context (a Transformer) are padded to a multiple of this
LINE_LIMIT = 200  # tiny_shakespeare: the language-model examples are its lines, cut to this many characters


def as_text(value):
    """bytes -> str, arrays of bytes -> lists of str; anything else as it is."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if getattr(value, "dtype", None) == object:
        return [as_text(v) for v in value]
    return value


def _tfds(name, held_out, args):
    try:
        return data.load_tfds(name, split=TFDS_SPLITS[name][held_out], data_dir=args.data_dir, download=args.download, with_info=True)
    except Exception as error:  # TFDS raises many kinds; say what to do
        raise CommandError(
            f"Could not load the TensorFlow Datasets data set {name!r} ({type(error).__name__}: {str(error)[:200]}). "
            "Prepare it under --data-dir, or pass --download where the machine can reach the internet. "
            f"Received: dataset={name!r}, data_dir={args.data_dir!r}"
        ) from error


def _shuffled(dataset, count, seed):
    if seed is None:
        return dataset
    return dataset.shuffle(count, seed=seed, reshuffle_each_iteration=False)


class _Trainer:
    """The examples of a named data set, the recipe built for them, their batches and their scores."""

    def examples(self, name, num_examples, held_out, args):
        """(examples, tag names or None): (inputs, targets) Python pairs of a named source."""
        if name in TFDS_SPLITS:
            dataset, _ = _tfds(name, held_out, args)
        elif name == "date_translation":
            dataset = data.date_translation(num_examples, split="test" if held_out else "train", seed=args.seed + held_out)
        else:  # random strings made in code: another seed gives other examples
            dataset = getattr(data, name)(num_examples, seed=args.seed + 1000 * held_out + 1)
        examples = [(as_text(x), as_text(y)) for x, y in dataset.take(num_examples).as_numpy_iterator()]
        if not examples:
            raise CommandError(f"The data set {name!r} gave no examples. Received: num_examples={num_examples}")
        return examples, None

    def tokenizer(self, texts, spec=None, words_given=False):
        """A tokenizer fitted on ``texts`` as ``spec`` says ({"kind", "vocabulary_size", "lowercase"}; kind None:
        the trainer's default, with every character or up to 20,000 words, as the built-in data sets use)."""
        spec = dict(spec or {})
        kind = spec.get("kind") or self.default_tokenizer
        size = spec.get("vocabulary_size")
        return make_tokenizer(kind, list(texts), size, bool(spec.get("lowercase")), words_given=words_given)


class TextPairs(_Trainer):
    default_tokenizer = "char"

    def build(self, info, pairs, arguments, names=None, tokenizer=None):
        sources, targets = zip(*pairs)
        source_tokenizer = self.tokenizer(sources, tokenizer)
        target_tokenizer = self.tokenizer(targets, tokenizer)
        return info.function(source_tokenizer=source_tokenizer, target_tokenizer=target_tokenizer, **arguments)

    def batches(self, model, pairs, batch_size, shuffle_seed=None, bucket=False):
        sources, targets = zip(*pairs)
        dataset = _shuffled(tf.data.Dataset.from_tensor_slices((list(sources), list(targets))), len(pairs), shuffle_seed)
        step = data.seq2seq_batches(
            model.tokenizer("source"), model.tokenizer("target"), batch_size, bucket=bucket,
            max_source_length=model.arguments["max_source_length"], max_target_length=model.arguments["max_target_length"],
        )  # fmt: skip
        return dataset.apply(step).prefetch(tf.data.AUTOTUNE)

    def scores(self, model, pairs, batch_size, lowercase=False):
        sources, targets = zip(*pairs)
        outputs = [s.decode("utf-8") for s in predict(model, list(sources), batch_size=batch_size, progress=True)["outputs"]]
        bleu, signature = sacre_bleu(list(targets), outputs, lowercase=lowercase)
        return {"exact_match": metrics.exact_match(list(targets), outputs), "bleu": bleu, "bleu_signature": signature}


class Classification(_Trainer):
    default_tokenizer = "word"

    def build(self, info, pairs, arguments, names=None, tokenizer=None):
        text_tokenizer = self.tokenizer([text for text, _ in pairs], tokenizer)
        arguments.setdefault("num_classes", max(2, 1 + max(int(label) for _, label in pairs), len(names or ())))
        if names:
            arguments.setdefault("label_names", list(names))
        return info.function(text_tokenizer=text_tokenizer, **arguments)

    def batches(self, model, pairs, batch_size, shuffle_seed=None, bucket=False):
        texts, labels = zip(*pairs)
        dataset = tf.data.Dataset.from_tensor_slices((list(texts), [int(y) for y in labels]))
        dataset = _shuffled(dataset, len(pairs), shuffle_seed).apply(data.tokenize(model.tokenizer("text")))
        return dataset.apply(data.truncate_or_pad(model.arguments["max_length"])).batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def scores(self, model, pairs, batch_size, lowercase=False):
        texts, labels = zip(*pairs)
        predicted = predict(model, list(texts), batch_size=batch_size, progress=True)["label_id"]
        labels = np.array([int(y) for y in labels])
        macro = f1_score(labels, predicted, average="macro", labels=np.union1d(labels, predicted), zero_division=0)
        return {"accuracy": float(np.mean(predicted == labels)), "macro_f1": float(macro)}


class Tagging(_Trainer):
    def examples(self, name, num_examples, held_out, args):
        dataset, info = _tfds(name, held_out, args)
        names = list(info.features["ner"].feature.names)
        examples = [(as_text(x), y) for x, y in dataset.take(num_examples).as_numpy_iterator()]
        aligned = [(tokens, tags) for tokens, tags in examples if len(tokens) == len(tags) > 0]  # one tag a token
        if len(aligned) < len(examples):
            print(f"{name}: left out {len(examples) - len(aligned)} sentences whose token and tag counts differ")
        if not aligned:
            raise CommandError(f"The data set {name!r} gave no examples. Received: num_examples={num_examples}")
        return aligned, names

    default_tokenizer = "word"

    def build(self, info, sentences, arguments, names=None, tokenizer=None):
        kind = (tokenizer or {}).get("kind") or "word"
        if kind != "word":  # one tag a token: the tokenizer must keep the file's tokens
            raise CommandError(f"A tagger reads its file's tokens as they are: --tokenizer word only. Received: --tokenizer={kind!r}")
        text_tokenizer = self.tokenizer([" ".join(t) for t, _ in sentences], tokenizer, words_given=True)
        return info.function(text_tokenizer=text_tokenizer, tags_tokenizer=list(names), **arguments)

    def batches(self, model, sentences, batch_size, shuffle_seed=None, bucket=False):
        dataset = tf.data.Dataset.from_generator(
            lambda: iter(sentences), output_signature=(tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.int64))
        ).apply(tf.data.experimental.assert_cardinality(len(sentences)))
        step = data.tagging_batches(model.tokenizer("text"), model.tokenizer("tags"), batch_size, max_length=model.arguments["max_length"])
        return _shuffled(dataset, len(sentences), shuffle_seed).apply(step).prefetch(tf.data.AUTOTUNE)

    def scores(self, model, sentences, batch_size, lowercase=False):
        vocabulary = model.tokenizer("tags").get_vocabulary()
        f1 = metrics.TaggingF1(len(vocabulary), tag_names=vocabulary)
        for ids, tags in self.batches(model, sentences, batch_size):
            f1.update_state(tags, predict_tags(model, ids))
        report = f1.report()
        scores = {f"f1 {tag}": values["f1"] for tag, values in report.items() if tag != "macro"}
        return {"macro_f1": report["macro"]["f1"], **scores}


class Text(_Trainer):
    def examples(self, name, num_examples, held_out, args):
        dataset, _ = _tfds(name, held_out, args)  # one long text per split: its lines are the examples
        lines = [line[:LINE_LIMIT] for text in dataset.as_numpy_iterator() for line in as_text(text).split("\n")]
        examples = [line for line in lines if line.strip()][:num_examples]
        if not examples:
            raise CommandError(f"The data set {name!r} gave no lines of text. Received: dataset={name!r}")
        return examples, None

    default_tokenizer = "char"

    def build(self, info, lines, arguments, names=None, tokenizer=None):
        return info.function(text_tokenizer=self.tokenizer(lines, tokenizer), **arguments)

    def batches(self, model, lines, batch_size, shuffle_seed=None, bucket=False):
        dataset = _shuffled(tf.data.Dataset.from_tensor_slices(lines), len(lines), shuffle_seed)
        dataset = dataset.apply(data.tokenize(model.tokenizer("text")))
        context = model.arguments.get("max_length")  # a Transformer's learned positions: [START] + ids fit them
        if context:
            dataset = dataset.map(lambda ids: ids[: context - 1])
        dataset = dataset.apply(data.teacher_forcing_shift())
        if not context:
            return dataset.apply(data.batch_with_padding(batch_size)).prefetch(tf.data.AUTOTUNE)
        # Few batch shapes for an XLA-compiled model (one compilation each), never over the context.
        dataset = dataset.apply(data.batch_with_padding(batch_size, pad_to_multiple_of=PAD_MULTIPLE))
        return dataset.map(lambda x, y: (x[:, :context], y[:, :context])).prefetch(tf.data.AUTOTUNE)

    def scores(self, model, lines, batch_size, lowercase=False):
        return {}  # model.evaluate reports the perplexity the recipe compiles in


TRAINERS = {"text_pairs": TextPairs(), "classification": Classification(), "tagging": Tagging(), "text": Text()}
