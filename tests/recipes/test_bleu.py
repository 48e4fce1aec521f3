"""``sacre_bleu`` against sacreBLEU itself (a test-only dependency): random corpora with punctuation, digits,
dashes and HTML entities, one and two references, cased and lowercased, hypotheses too short for 4-grams and
with no match at all; and its bad input."""

import numpy as np
import pytest
import sacrebleu

from seqrecipes.recipes.training.bleu import sacre_bleu, tokenize_13a

WORDS = ["the", "The", "dog", "cat", "runs", "3.5", "1,000", "2009-06", "a-b", "end.", "well,", "(x)", "&amp;", "\"q\"",
         "it's", "!", "?", "e.g.", "US$", "9-", "한국어", "문장."]  # fmt: skip


def _corpus(rng, count, max_words):
    return [" ".join(rng.choice(WORDS, rng.integers(0, max_words + 1))) for _ in range(count)]


def _sacrebleu(references, hypotheses, lowercase):
    metric = sacrebleu.BLEU(lowercase=lowercase)
    score = metric.corpus_score(hypotheses, [list(column) for column in zip(*references)])
    return score.score, metric.get_signature().format()


@pytest.mark.parametrize("seed", range(6))
def test_corpus_bleu_equals_sacrebleu(seed):
    rng = np.random.default_rng(seed)
    count, max_words = int(rng.integers(1, 40)), [2, 5, 12, 30, 3, 8][seed]
    nrefs = 1 + seed % 2
    hypotheses = _corpus(rng, count, max_words)
    references = [_corpus(rng, nrefs, max_words) for _ in range(count)]
    # Half the hypotheses copy a reference with a word changed, so the scores are not all near 0.
    for i in range(0, count, 2):
        words = references[i][0].split()
        if words:
            words[int(rng.integers(len(words)))] = str(rng.choice(WORDS))
        hypotheses[i] = " ".join(words)
    for lowercase in (False, True):
        expected, signature = _sacrebleu(references, hypotheses, lowercase)
        score, ours = sacre_bleu(references if nrefs > 1 else [r[0] for r in references], hypotheses, lowercase=lowercase)
        assert score == pytest.approx(expected, abs=1e-9)
        assert ours.rsplit("|version:", 1)[0] == signature.rsplit("|version:", 1)[0]


def test_edge_cases_equal_sacrebleu():
    cases = [
        (["a b c d e"], ["a b c d e"]),  # 100
        (["a b c d e"], ["x y z"]),  # no match: 0
        (["a b c"], ["a b"]),  # no 3- or 4-grams in the hypothesis
        (["a b c d"], [""]),  # an empty hypothesis
        (["a b c d e f"], ["a b x d e y"]),  # orders with matches and without (exp smoothing)
    ]
    for references, hypotheses in cases:
        expected, _ = _sacrebleu([[r] for r in references], hypotheses, False)
        assert sacre_bleu(references, hypotheses)[0] == pytest.approx(expected, abs=1e-9)


def test_13a_tokens_equal_sacrebleu():
    tokenizer = sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()
    for line in ["A dog, 3.5 years old, runs!", "1,000 &amp; 2009-06-25 (x) \"q\" e.g. US$9-", "end.Start", "x--y"]:
        assert tokenize_13a(line) == tokenizer(line)


@pytest.mark.parametrize(
    ("references", "hypotheses", "message"),
    [
        ([], [], "non-empty and of the same length"),
        (["a"], ["a", "b"], "Received: 1 references, 2 hypotheses"),
        ("a", "a", "lists of strings, not one string"),
        ([["a"], ["a", "b"]], ["a", "b"], "as many references"),
    ],
)
def test_bad_input(references, hypotheses, message):
    with pytest.raises(ValueError, match=message):
        sacre_bleu(references, hypotheses)
