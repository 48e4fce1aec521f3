"""ARPA files between ``ngram_language_model`` and KenLM: the same sentence log10 probabilities both ways.

1. Round trip (goal): a Kneser-Ney trigram fitted by ``recipes.ngram_language_model`` on WikiText-2
   ``valid.txt`` (from ``--data``, default ``../shared/data`` relative to the repository root; see
   its README.md; headings and blank lines dropped, paragraphs split into sentences after each
   ``.``), written by ``recipes.write_arpa`` and loaded by ``kenlm.Model``: KenLM's
   ``score(sentence, bos=True, eos=True)`` (log10) against ours, ``recipes.score(model,
   sentences)["log_prob"] / ln 10``, on the first ``--sample`` sentences of ``test.txt`` and of the
   training text. The tokenizer is a ``WordTokenizer(split_punctuation=False)`` over the training
   words (whitespace tokens, case kept, as KenLM splits), without WikiText's literal ``<unk>``: that
   word and every word outside the training text is [UNK] for us and ``<unk>`` for KenLM. The file
   read back by ``recipes.read_arpa`` must score as the model it came from (printed).
2. Foreign ARPA (goal): the ARPA files of KenLM's source distribution (``lm/test.arpa``, a 5-gram
   with ``<unk>``; ``lm/test_nounk.arpa``, without; ``lm/common/test_data/toy0.arpa`` and
   ``toy1.arpa``, trigrams) read by ``recipes.read_arpa`` and by ``kenlm.Model``, scored on
   sentences made of each file's vocabulary: every stored n-gram as a sentence (``<s>`` and ``</s>``
   stripped, as ``bos`` and ``eos`` add them), random sentences of its words (seeded) and a few
   with words the file lacks (``<unk>``; -100 in a file without it, KenLM's choice and ours).
   ``--kenlm-source``: the sdist (``pip download kenlm --no-binary :all: --no-deps
   --no-build-isolation -d /tmp/kenlm_src``) or its unpacked folder; default ``/tmp/kenlm_src``.

Goals (issue, KenLM): ``|log10 difference| <= 1e-4`` per sentence, both ways. The last lines are
one per goal: ``goal NAME: ... met`` or ``... not met``.

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/ngram_kenlm.py`` (``--quick``: a small check).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import math  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import kenlm  # noqa: E402
import numpy as np  # noqa: E402

from seqrecipes import data, recipes  # noqa: E402
from seqrecipes.recipes.many_to_many import _ngram_arpa  # noqa: E402
from seqrecipes.recipes.many_to_many._ngram import padded_ngrams  # noqa: E402

TOLERANCE = 1e-4
LN10 = math.log(10.0)
FOREIGN = ("lm/test.arpa", "lm/test_nounk.arpa", "lm/common/test_data/toy0.arpa", "lm/common/test_data/toy1.arpa")


def read_sentences(path):
    """WikiText sentences: headings and blank lines dropped, paragraphs split after each ``.``."""
    sentences = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or (words[0] == "=" and words[-1] == "="):
            continue
        start = 0
        for i, word in enumerate(words):
            if word == ".":
                sentences.append(" ".join(words[start : i + 1]))
                start = i + 1
        if words[start:]:
            sentences.append(" ".join(words[start:]))
    return sentences


def ours_log10(model, sentences, tokens=False):
    """Our sentence log10 p (``recipes.score``); with ``tokens``, also each token's, </s> last, flat."""
    scores = recipes.score(model, sentences)
    sentence = np.asarray(scores["log_prob"], dtype=np.float64) / LN10
    if not tokens:
        return sentence
    token = np.asarray(scores["token_log_probs"], dtype=np.float64) / LN10
    return sentence, np.concatenate([row[:length] for row, length in zip(token, np.asarray(scores["lengths"]))])


def kenlm_tokens(model, sentences):
    """KenLM's log10 p of each token, </s> last, flat (``full_scores``)."""
    return np.array([p for s in sentences for p, _, _ in model.full_scores(s, bos=True, eos=True)])


def kenlm_log10(model, sentences):
    return np.array([model.score(s, bos=True, eos=True) for s in sentences])


def kenlm_model(path):
    config = kenlm.Config()
    config.show_progress = False
    return kenlm.Model(str(path), config)


def exact_log10(path, sentences):
    """The file's own sentence log10 p in float64 (the back-off rule in NumPy over the parsed file), the
    reference both float32 scorers are measured against."""
    tables, words = _ngram_arpa.read_arpa(str(path))
    index = {w: i for i, w in enumerate(words)}
    ids = [np.array([index.get(w, 1) for w in s.split()], np.int64) for s in sentences]  # 1: <unk>
    lengths = np.array([len(i) for i in ids])
    tokens = tables.log_prob(padded_ngrams(np.concatenate(ids), lengths, tables.order, "single"))
    return np.add.reduceat(tokens, np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])) / LN10


def round_trip(data_folder, sample, quick, folder):
    """The largest |log10| difference between our model and KenLM reading our ARPA file."""
    train = read_sentences(data_folder / "wikitext-2/valid.txt")
    test = read_sentences(data_folder / "wikitext-2/test.txt")[:sample]
    if quick:
        train = train[:2000]
    words = list(dict.fromkeys(w for s in train for w in s.split() if w != "<unk>"))
    tokenizer = data.WordTokenizer(vocabulary=words, split_punctuation=False)
    start = time.perf_counter()
    model = recipes.ngram_language_model(train, order=3, estimator="kneser_ney", text_tokenizer=tokenizer)
    fit_seconds = time.perf_counter() - start
    path = folder / "wikitext_kn3.arpa"
    start = time.perf_counter()
    recipes.write_arpa(model, str(path))
    write_seconds = time.perf_counter() - start
    start = time.perf_counter()
    theirs = kenlm_model(path)
    load_seconds = time.perf_counter() - start
    print(f"train: WikiText-2 valid.txt, {len(train):,} sentences, {sum(len(s.split()) + 1 for s in train):,} tokens, "
          f"{len(words):,} words; fit {fit_seconds:.1f} s, write_arpa {write_seconds:.1f} s "
          f"({path.stat().st_size / 2**20:.1f} MiB), kenlm.Model {load_seconds:.1f} s")  # fmt: skip
    back = recipes.read_arpa(str(path))
    worst = 0.0
    print(f"{'sentences':<22}{'count':>6}{'max words':>10}{'|ours - KenLM|':>16}{'|ours - exact|':>16}"
          f"{'|KenLM - exact|':>16}{'per token':>11}{'|read_arpa - ours|':>20}")  # fmt: skip
    for label, sentences in (("test.txt (first)", test), ("valid.txt (training)", train[:sample])):
        (ours, ours_tokens), exact = ours_log10(model, sentences, tokens=True), exact_log10(path, sentences)
        kenlm_scores = kenlm_log10(theirs, sentences)
        difference = np.abs(ours - kenlm_scores)
        per_token = np.abs(ours_tokens - kenlm_tokens(theirs, sentences)).max()
        reread = np.abs(ours_log10(back, sentences) - ours)
        print(f"{label:<22}{len(sentences):>6}{max(len(s.split()) for s in sentences):>10}{difference.max():>16.2e}"
              f"{np.abs(ours - exact).max():>16.2e}{np.abs(kenlm_scores - exact).max():>16.2e}{per_token:>11.1e}"
              f"{reread.max():>20.2e}")  # fmt: skip
        worst = max(worst, float(difference.max()))
    print("(maxima over sentences of |log10 P(sentence)| differences; exact: the file's values summed in float64;\n"
          " per token: max |log10 p(w | h)| difference, ours against KenLM's full_scores; both score in float32)")
    return worst


def unpack_sources(source, folder):
    """The foreign ARPA files: from the unpacked sdist folder, or extracted from the .tar.gz."""
    source = Path(source)
    if source.is_dir() and not any(source.glob("*/lm/test.arpa")) and any(source.glob("kenlm-*.tar.gz")):
        source = sorted(source.glob("kenlm-*.tar.gz"))[-1]
    if source.is_file():
        with tarfile.open(source) as archive:
            members = [m for m in archive.getmembers() if any(m.name.endswith("/" + name) for name in FOREIGN)]
            archive.extractall(folder, members=members, filter="data")
        source = folder
    paths = {name: next(iter(sorted(source.glob(f"**/{name}"))), None) for name in FOREIGN}
    return {name: path for name, path in paths.items() if path is not None}


def arpa_grams(path):
    """The n-grams (tuples of words) of each section of an ARPA file."""
    grams, n = [], 0
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.endswith("-grams:"):
            n = int(line[1 : line.index("-")])
        elif line.startswith("\\"):
            n = 0
        elif n and line:
            grams.append(tuple(line.split()[1 : n + 1]))
    return grams


def foreign_sentences(path, rng, random_sentences):
    """Sentences of the file's words: its n-grams, random word strings, and some with unknown words."""
    grams = arpa_grams(path)
    vocabulary = sorted({g[0] for g in grams if len(g) == 1} - {"<s>", "</s>"})
    sentences = set()
    for gram in grams:
        words = list(gram[1:] if gram[0] == "<s>" else gram)
        words = words[:-1] if words and words[-1] == "</s>" else words
        if words and "<s>" not in words and "</s>" not in words:
            sentences.add(" ".join(words))
    for _ in range(random_sentences):
        sentences.add(" ".join(rng.choice(vocabulary, size=rng.integers(1, 16))))
    for _ in range(random_sentences // 10):
        words = list(rng.choice(vocabulary, size=rng.integers(1, 10)))
        words.insert(int(rng.integers(0, len(words) + 1)), "qqqunseen")
        sentences.add(" ".join(words))
    return sorted(sentences)


def foreign(source, folder, random_sentences):
    """The largest |log10| difference between read_arpa and KenLM on each foreign file."""
    paths = unpack_sources(source, folder)
    if not paths:
        print(f"no KenLM ARPA files under {source}: run "
              "`pip download kenlm --no-binary :all: --no-deps --no-build-isolation -d /tmp/kenlm_src`")  # fmt: skip
        return math.inf, 0
    rng = np.random.default_rng(0)
    worst, files = 0.0, 0
    print(f"{'file':<32}{'order':>6}{'words':>6}{'sentences':>10}{'|ours - KenLM|':>16}{'|ours - exact|':>16}"
          f"{'|KenLM - exact|':>16}{'unknown words':>18}")  # fmt: skip
    for name, path in paths.items():
        sentences = foreign_sentences(path, rng, random_sentences)
        ours = ours_log10(recipes.read_arpa(str(path)), sentences)
        theirs, exact = kenlm_log10(kenlm_model(path), sentences), exact_log10(path, sentences)
        difference = np.abs(ours - theirs)
        unknown = [i for i, s in enumerate(sentences) if "qqqunseen" in s]
        grams = arpa_grams(path)
        order, words = max(len(g) for g in grams), sum(len(g) == 1 for g in grams)
        print(f"{name:<32}{order:>6}{words:>6}{len(sentences):>10}{difference.max():>16.2e}{np.abs(ours - exact).max():>16.2e}"
              f"{np.abs(theirs - exact).max():>16.2e}{f'{len(unknown)}: {difference[unknown].max():.1e}':>18}")  # fmt: skip
        worst, files = max(worst, float(difference.max())), files + 1
    return worst, files


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data", help="the shared data folder (relative to the repository root)")
    parser.add_argument("--kenlm-source", default="/tmp/kenlm_src", help="KenLM's sdist (.tar.gz) or its unpacked folder")
    parser.add_argument("--sample", type=int, default=2000, help="test (and training) sentences to score")
    parser.add_argument("--random-sentences", type=int, default=500, help="random sentences per foreign file")
    parser.add_argument("--quick", action="store_true", help="a small run to check the script works")
    args = parser.parse_args()
    if args.quick:
        args.sample, args.random_sentences = 200, 50
    data_folder = Path(__file__).resolve().parents[1] / args.data  # relative to the repository root (or absolute)
    with tempfile.TemporaryDirectory() as folder:
        print("== round trip: our Kneser-Ney trigram -> write_arpa -> kenlm.Model ==")
        round_trip_worst = round_trip(data_folder, args.sample, args.quick, Path(folder))
        print("\n== foreign ARPA: KenLM's own test files -> read_arpa, against kenlm.Model ==")
        foreign_worst, files = foreign(args.kenlm_source, Path(folder), args.random_sentences)
    print()
    print(f"goal kenlm_round_trip: max |log10 difference| {round_trip_worst:.1e} (target <= {TOLERANCE:g}) "
          f"{'met' if round_trip_worst <= TOLERANCE else 'not met'}")
    print(f"goal kenlm_foreign_arpa: max |log10 difference| {foreign_worst:.1e} over {files} KenLM test files "
          f"(target <= {TOLERANCE:g}) {'met' if foreign_worst <= TOLERANCE else 'not met'}")


if __name__ == "__main__":
    main()
