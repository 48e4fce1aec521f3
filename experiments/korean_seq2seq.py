"""Korean with the encoder-decoder recipes: Korean->English translation and a Korean chatbot, against retrieval.

Two tasks (``--task``, both by default), data under ``--data`` (default ``../shared/data``):

- ``translation``: ``korean-english/``, Korean -> English. Training: ``korean-english-park.{dev,test}`` and
  ``jhe-koen-dev`` (3,720 pairs, news and general sentences); test: ``jhe-koen-eval`` (720 pairs). The recipes
  ``seq2seq`` (fixed context, Cho's wiring), ``seq2seq_attention`` (Bahdanau over a bidirectional GRU) and
  ``transformer_seq2seq``. Small data: chrF beside BLEU.
- ``chatbot``: ``chatbot-ko/ChatbotData.csv``, question -> answer, 11,823 pairs shuffled with seed 0, the last
  1,000 held out; ``seq2seq_attention``. After training the model is exported (``recipes.export``), the
  SavedModel loaded back with ``tf.saved_model.load``, and its ``generate`` signature answers held-out
  questions by sampling with the decoding controls (temperature 0.7, top-p 0.9, ``no_repeat_ngram_size`` 3,
  ``repetition_penalty`` 1.2, 2 answers each), as a served model would.

Every model: SentencePiece tokenizers fitted on the training side (lowercased, ``--vocabulary-size``), bucketed
batches of 64, 10% of the training pairs held out for early stopping on the validation loss (patience 3, the
best weights restored, at most ``--epochs``), beam search 5 on the test sources, lowercased sacreBLEU and chrF.

The baseline a practitioner tries first on so little data is retrieval: the answer (or translation) of the
training pair whose source is closest to the test source by cosine over TF-IDF character 1-3-grams
(scikit-learn). Each model's goal line asks for a higher chrF than retrieval's.

Measured (the default run, 43 min on 2 CPU cores; lowercased sacreBLEU 13a and chrF2):

    translation  retrieval 3.50 BLEU / 21.62 chrF; seq2seq 0.36 / 9.41 (14 epochs), seq2seq_attention 0.38 /
                 10.08 (16), transformer_seq2seq 0.08 / 10.96 (25)
    chatbot      retrieval 25.29 / 27.43; seq2seq_attention 5.91 / 10.05 (20 epochs)

No model beats retrieval: 3,720 pairs of news and general sentences are far too few to learn translation from
scratch (the outputs are fluent-looking English unrelated to the source), and 54% of the held-out chatbot
answers occur word for word among the training answers (the data set reuses its answers), which retrieval
finds and a generator paraphrases. The served chatbot's sampled answers are fluent Korean on topic
("집들이 하기 싫어" -> "안해도 괜찮아요", "조별 발표 왜 이렇게 많이 시키지" -> "역할 분담을 잘 해보세요.").

Usage:
    python experiments/korean_seq2seq.py --data ../shared/data            # both tasks, about 45 minutes
    python experiments/korean_seq2seq.py --task chatbot
    python experiments/korean_seq2seq.py --quick                          # a smoke run, about 2 minutes
"""

import argparse
import csv
import inspect
import os
import random
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import sacrebleu  # noqa: E402 (the bench-translation extra)
import tensorflow as tf  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402

import multi30k  # noqa: E402 (tokenizers, beam translation)
from seqrecipes import data, recipes  # noqa: E402

REPO = multi30k.REPO
MAX_LENGTH = 64
BATCH = 64
RNN = dict(units=256, embedding_dim=128, dropout=0.3, label_smoothing=0.1, learning_rate=1e-3)
RECIPES = {
    "seq2seq": (recipes.seq2seq, dict(cell="gru", context_every_step=True, **RNN)),
    "seq2seq_attention": (recipes.seq2seq_attention, dict(cell="gru", bidirectional=True, attention="bahdanau", **RNN)),
    "transformer_seq2seq": (
        recipes.transformer_seq2seq,
        dict(num_layers=2, num_heads=4, hidden_dim=256, intermediate_dim=512, dropout=0.2, label_smoothing=0.1,
             learning_rate=5e-4),
    ),
}  # fmt: skip
QUICK = dict(units=32, embedding_dim=16, num_layers=1, num_heads=2, hidden_dim=32, intermediate_dim=64)
TASKS = {"translation": ("seq2seq", "seq2seq_attention", "transformer_seq2seq"), "chatbot": ("seq2seq_attention",)}
# The sampling settings of the chatbot's served answers: every generate input, as a request carries them.
SAMPLING = dict(
    beam_width=1, num_results=2, max_length=40, temperature=0.7, top_k=0, top_p=0.9, seed=0, length_penalty=0.6,
    coverage_penalty=0.0, min_length=0, no_repeat_ngram_size=3, repetition_penalty=1.2, banned="", alignments=False,
)  # fmt: skip


def read_lines(path):
    with open(path, encoding="utf-8") as file:
        return [line.rstrip("\n") for line in file]


def translation_pairs(folder):
    """((Korean, English) training lists, (Korean, English) test lists) of korean-english/."""
    train = ([], [])
    for name in ("korean-english-park.dev", "korean-english-park.test", "jhe-koen-dev"):
        for side, language in zip(train, ("ko", "en")):
            side.extend(read_lines(os.path.join(folder, f"{name}.{language}")))
    test = tuple(read_lines(os.path.join(folder, f"jhe-koen-eval.{language}")) for language in ("ko", "en"))
    return train, test


def chatbot_pairs(folder, held_out=1000):
    with open(os.path.join(folder, "ChatbotData.csv"), encoding="utf-8", newline="") as file:
        rows = [(row["Q"], row["A"]) for row in csv.DictReader(file)]
    random.Random(0).shuffle(rows)
    train, test = rows[:-held_out], rows[-held_out:]
    return tuple(map(list, zip(*train))), tuple(map(list, zip(*test)))


def retrieval(train, sources):
    """The target of the training pair nearest to each source (cosine over TF-IDF character 1-3-grams)."""
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    known = vectorizer.fit_transform(train[0])
    nearest = np.asarray((vectorizer.transform(sources) @ known.T).argmax(axis=1)).ravel()
    return [train[1][i] for i in nearest]


def scores(outputs, references):
    bleu = sacrebleu.metrics.BLEU(lowercase=True)
    chrf = sacrebleu.metrics.CHRF(lowercase=True)
    return bleu.corpus_score(outputs, [references]).score, chrf.corpus_score(outputs, [references]).score, bleu.get_signature()


def training_batches(model, pairs, seed):
    """Bucketed batches of one reshuffled pass (multi30k.py's repeat forever and need steps_per_epoch)."""
    step = data.seq2seq_batches(
        model.tokenizer("source"), model.tokenizer("target"), BATCH, bucket=True,
        max_source_length=MAX_LENGTH, max_target_length=MAX_LENGTH,
    )  # fmt: skip
    dataset = tf.data.Dataset.from_tensor_slices(tuple(pairs)).shuffle(len(pairs[0]), seed=seed, reshuffle_each_iteration=True)
    return dataset.apply(step)


def train_recipe(task, name, tokenizers, train, args):
    recipe, arguments = RECIPES[name]
    accepted = inspect.signature(recipe).parameters
    arguments = dict(arguments, **({k: v for k, v in QUICK.items() if k in accepted} if args.quick else {}))
    keras.utils.set_random_seed(args.seed)
    model = recipe(
        source_tokenizer=tokenizers[0], target_tokenizer=tokenizers[1], max_source_length=MAX_LENGTH,
        max_target_length=MAX_LENGTH, **arguments,
    )  # fmt: skip
    held_out = len(train[0]) // 10
    fit_pairs, stop_pairs = [side[held_out:] for side in train], [side[:held_out] for side in train]
    t0 = time.perf_counter()
    history = recipes.train(
        model, training_batches(model, fit_pairs, args.seed), multi30k.validation_batches(stop_pairs, model, BATCH),
        epochs=args.epochs, patience=3, run_dir=os.path.join(REPO, "runs", "korean", f"{task}-{name}"), resume=False,
        verbose=2,
    )  # fmt: skip
    epochs, minutes = len(history.history["loss"]), (time.perf_counter() - t0) / 60
    print(f"{task} {name}: {model.count_params():,} parameters, {epochs} epochs in {minutes:.1f} min", flush=True)
    return model, epochs, minutes


def served_answers(model, questions, folder):
    """Exports ``model``, loads the SavedModel back and asks its ``generate`` signature, sampling."""
    shutil.rmtree(folder, ignore_errors=True)
    path = recipes.export(model, folder)
    generate = tf.saved_model.load(path).signatures["generate"]
    settings = {k: tf.constant(v, tf.float32 if isinstance(v, float) else None) for k, v in SAMPLING.items()}
    result = generate(inputs=tf.constant(questions), **settings)
    answers = [[text.decode("utf-8") for text in row] for row in result["outputs"].numpy()]
    return path, answers


def run_task(task, args, table):
    folder = os.path.join(args.data, "korean-english" if task == "translation" else "chatbot-ko")
    train, test = translation_pairs(folder) if task == "translation" else chatbot_pairs(folder)
    if args.quick:
        train, test = tuple(side[:300] for side in train), tuple(side[:50] for side in test)
    tokenizers = [multi30k.fit_tokenizer("sentencepiece", side, args.vocabulary_size) for side in train]
    print(f"\n{task}: {len(train[0])} training and {len(test[0])} test pairs; vocabularies {tokenizers[0].vocabulary_size()} and {tokenizers[1].vocabulary_size()}", flush=True)
    bleu, chrf, signature = scores(retrieval(train, test[0]), test[1])
    table.append((task, "retrieval (TF-IDF char 1-3-grams)", bleu, chrf, 0, 0.0))
    for name in TASKS[task]:
        model, epochs, minutes = train_recipe(task, name, tokenizers, train, args)
        outputs = multi30k.Translator(model, 5)(test[0])
        bleu, chrf, signature = scores(outputs, test[1])
        table.append((task, name, bleu, chrf, epochs, minutes))
        print(f"{task} {name}: BLEU {bleu:.2f}, chrF {chrf:.2f}", flush=True)
        for source, reference, output in list(zip(*test, outputs))[:3]:
            print(f"  src: {source}\n  ref: {reference}\n  out: {output}")
        if task == "chatbot":
            questions = test[0][:6]
            path, answers = served_answers(model, questions, os.path.join(REPO, "saved_models", "korean_chatbot"))
            print(f"\nthe export {path}, its generate signature, {SAMPLING}:")
            for question, reference, row in zip(questions, test[1], answers):
                print(f"  Q: {question}   (reference: {reference})\n     " + "\n     ".join(row))
    return signature


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    parser.add_argument("--task", choices=("translation", "chatbot", "both"), default="both")
    parser.add_argument("--epochs", type=int, default=30, help="the most epochs (early stopping, patience 3)")
    parser.add_argument("--vocabulary-size", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 300 pairs, tiny models, 2 epochs")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.vocabulary_size = 2, 2000
    started, table = time.perf_counter(), []
    signature = None
    for task in ("translation", "chatbot") if args.task == "both" else (args.task,):
        signature = run_task(task, args, table)
    print(f"\nsacreBLEU {signature}; chrF lowercased, chrF2")
    print(f"{'task':<12} {'model':<36} {'BLEU':>6} {'chrF':>6} {'epochs':>6} {'minutes':>7}")
    for task, name, bleu, chrf, epochs, minutes in table:
        print(f"{task:<12} {name:<36} {bleu:>6.2f} {chrf:>6.2f} {epochs:>6} {minutes:>7.1f}")
    print(f"(whole run {(time.perf_counter() - started) / 60:.1f} min)")
    baselines = {task: chrf for task, name, _, chrf, _, _ in table if name.startswith("retrieval")}
    for task, name, _, chrf, _, _ in table:
        if not name.startswith("retrieval"):
            met = chrf > baselines[task]
            print(f"goal {task}_{name}_beats_retrieval: chrF {chrf:.2f} (target > retrieval's {baselines[task]:.2f}) {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
