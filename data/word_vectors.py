"""``WordVectors``: trained word vectors with their tokens: queries, benchmarks and the files other tools read.

Queries use cosine similarity over unit vectors, as gensim's ``KeyedVectors`` does: ``most_similar`` (mean
of the unit query vectors, added or subtracted), ``analogy`` (a : b :: c : ? by 3CosAdd, b - a + c),
``evaluate_word_pairs`` (Spearman correlation with human scores, WordSim353) and ``evaluate_analogies``
(accuracy on the Google analogy questions). Files: the word2vec text format (``save_word2vec_format``,
``load_word2vec_format``; gensim's ``KeyedVectors.load_word2vec_format(path)`` reads it) and the TensorBoard
projector's ``vectors.tsv`` and ``metadata.tsv`` (``save_projector``). Plain NumPy: no TensorFlow here.
"""

import os

import numpy as np

# The most frequent words the benchmarks consider, as gensim's ``restrict_vocab`` default.
RESTRICT_VOCAB = 300_000


class WordVectors:
    """Tokens and their vectors (N, d), most frequent first when they come from a tokenizer.

    Args:
        tokens: N distinct non-empty strings without whitespace.
        vectors: (N, d) floats, finite.

    Raises:
        ValueError: the counts differ, a token repeats, is empty or holds whitespace, or a vector is not finite.

    Example:
    >>> from seqrecipes import data
    >>> vectors = data.WordVectors(["king", "queen", "man", "woman"], [[1, 1], [1, -1], [0.2, 1], [0.2, -1]])
    >>> [(word, round(cosine, 3)) for word, cosine in vectors.analogy("man", "king", "woman")]
    [('queen', 0.963)]
    >>> [word for word, _ in vectors.most_similar("king", topn=2)]
    ['man', 'queen']
    """

    def __init__(self, tokens, vectors):
        tokens = [str(token) for token in tokens]
        vectors = np.asarray(vectors, np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(tokens) or not tokens:
            raise ValueError(
                f"`vectors` must be (N, d) with one row per token (N={len(tokens)}, N >= 1). Received: vectors.shape={vectors.shape}"
            )
        if not np.isfinite(vectors).all():
            raise ValueError("`vectors` must be finite. Received: NaN or infinite values")
        self.index = {}
        for position, token in enumerate(tokens):
            if not token or any(c.isspace() for c in token):
                raise ValueError(f"Tokens must be non-empty and hold no whitespace (the file formats split on it). Received: tokens[{position}]={token!r}")
            if token in self.index:
                raise ValueError(f"Tokens must be distinct. Received: tokens[{position}]={token!r} repeats tokens[{self.index[token]}]")
            self.index[token] = position
        self.tokens = tokens
        self.vectors = vectors
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit_vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)

    def __len__(self):
        return len(self.tokens)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word):
        return self.vectors[self._id(word)]

    @property
    def dimension(self):
        """d, the size of a vector."""
        return self.vectors.shape[1]

    def _id(self, word):
        if not isinstance(word, str):
            raise TypeError(f"A word must be a string. Received: word={word!r:.80}")
        if word not in self.index:
            raise KeyError(f"Word {word!r} is not in the vocabulary of {len(self)} words. Received: word={word!r}")
        return self.index[word]

    def similarity(self, first, second):
        """cos(v_first, v_second)."""
        return float(self.unit_vectors[self._id(first)] @ self.unit_vectors[self._id(second)])

    def most_similar(self, positive=(), negative=(), topn=10):
        """The ``topn`` words closest to the mean of the unit ``positive`` vectors minus the ``negative`` ones.

        Args:
            positive: a word or a list of words whose vectors are added.
            negative: a list of words whose vectors are subtracted.
            topn: how many words to return; the query words are never among them.

        Returns:
            ``[(word, cosine), ...]``, closest first.

        Raises:
            KeyError: a query word is not in the vocabulary (the error names it).
            ValueError: no query word, or ``topn`` below 1.
        """
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = [negative] if isinstance(negative, str) else list(negative)
        if not positive and not negative:
            raise ValueError("`positive` or `negative` must name at least one word. Received: positive=[], negative=[]")
        if isinstance(topn, bool) or not isinstance(topn, int) or topn < 1:
            raise ValueError(f"`topn` must be a positive integer. Received: topn={topn!r}")
        ids = [self._id(word) for word in positive + negative]
        weights = np.array([1.0] * len(positive) + [-1.0] * len(negative), np.float32)
        query = (weights[:, None] * self.unit_vectors[ids]).mean(axis=0)
        scores = self.unit_vectors @ (query / max(np.linalg.norm(query), 1e-12))
        scores[ids] = -np.inf
        best = np.argsort(-scores, kind="stable")[: min(topn, len(self) - len(set(ids)))]
        return [(self.tokens[i], float(scores[i])) for i in best]

    def analogy(self, a, b, c, topn=1):
        """a : b :: c : ?, the words closest to v_b - v_a + v_c (3CosAdd over unit vectors)."""
        return self.most_similar(positive=[b, c], negative=[a], topn=topn)

    # ------------------------------------------------------------------------------------------
    # Benchmarks, as gensim's KeyedVectors runs them.

    def _case_folded(self, restrict_vocab):
        """word.lower() -> id over the first ``restrict_vocab`` tokens; the most frequent spelling wins."""
        folded = {}
        for position, token in enumerate(self.tokens[:restrict_vocab]):
            folded.setdefault(token.lower(), position)
        return folded

    def evaluate_word_pairs(self, path, restrict_vocab=RESTRICT_VOCAB):
        """Spearman's rho between human similarity scores and cosines, over the pairs whose words are known.

        ``path``: lines ``word1<TAB>word2<TAB>score``; lines starting with ``#`` are comments (the
        WordSim353 file of gensim's test data). Words are compared case-insensitively.

        Returns:
            ``(spearman, oov_ratio)``: the correlation, and the share of pairs left out for an unknown word.
        """
        lookup = self._case_folded(restrict_vocab)
        humans, model, missing = [], [], 0
        for number, line in _lines(path, "path"):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.split("\t")
            try:
                first, second, score = fields[0].lower(), fields[1].lower(), float(fields[2])
            except (IndexError, ValueError):
                raise ValueError(f"`path` must hold lines 'word1<TAB>word2<TAB>score'. Received: path={os.fspath(path)!r} (line {number})") from None
            if first not in lookup or second not in lookup:
                missing += 1
                continue
            humans.append(score)
            model.append(float(self.unit_vectors[lookup[first]] @ self.unit_vectors[lookup[second]]))
        total = len(humans) + missing
        if len(humans) < 2:
            raise ValueError(f"Too few pairs with known words to correlate: {len(humans)} of {total}. Received: path={os.fspath(path)!r}")
        return spearman(np.array(humans), np.array(model)), missing / total

    def evaluate_analogies(self, path, restrict_vocab=RESTRICT_VOCAB, batch_size=1024):
        """Accuracy on analogy questions ``a b c d`` (``: section`` lines start sections): is d the word
        closest to b - a + c, the query words left out? Questions with an unknown word are skipped.

        Returns:
            ``(accuracy, sections)``: the share answered right over every section, and
            ``{section: (correct, asked)}``.
        """
        lookup = self._case_folded(restrict_vocab)
        questions, sections, section = [], {}, None
        for number, line in _lines(path, "path"):
            if line.startswith(":"):
                section = line[1:].strip()
                sections.setdefault(section, [0, 0])
                continue
            words = line.lower().split()
            if not words:
                continue
            if len(words) != 4 or section is None:
                raise ValueError(f"`path` must hold ': section' lines and questions of 4 words. Received: path={os.fspath(path)!r} (line {number})")
            if all(word in lookup for word in words):
                questions.append([lookup[word] for word in words] + [len(sections) - 1])
        names = list(sections)
        known = self.unit_vectors[:restrict_vocab]
        for start in range(0, len(questions), batch_size):
            chunk = np.array(questions[start : start + batch_size])
            a, b, c, d, where = chunk.T
            query = known[b] - known[a] + known[c]  # the mean's direction, as most_similar takes it
            scores = query @ known.T
            rows = np.arange(len(chunk))
            for ids in (a, b, c):
                scores[rows, ids] = -np.inf
            right = scores.argmax(axis=1) == d
            for index, hit in zip(where, right):
                sections[names[index]][0] += int(hit)
                sections[names[index]][1] += 1
        asked = sum(n for _, n in sections.values())
        if asked == 0:
            raise ValueError(f"No analogy question has four known words. Received: path={os.fspath(path)!r}")
        return sum(c for c, _ in sections.values()) / asked, {k: tuple(v) for k, v in sections.items()}

    # ------------------------------------------------------------------------------------------
    # Files.

    def save_word2vec_format(self, path):
        """Writes the word2vec text format: a header ``N d``, then ``token v_1 ... v_d`` per line. Returns ``path``."""
        with open(path, "w", encoding="utf-8") as file:
            file.write(f"{len(self)} {self.dimension}\n")
            for token, vector in zip(self.tokens, self.vectors):
                file.write(token + " " + " ".join(repr(float(v)) for v in vector) + "\n")
        return path

    @classmethod
    def load_word2vec_format(cls, path):
        """Reads the word2vec text format (what ``save_word2vec_format`` and gensim write).

        Raises:
            FileNotFoundError: no such file.
            ValueError: a bad header (not ``N d``, two positive integers), a line without d numbers, fewer
                or more lines than N, or text that is not UTF-8; the error names the file and the line.
        """
        lines = iter(_lines(path, "path"))
        where = f"path={os.fspath(path)!r}"
        header = next(lines, (1, ""))[1].split()
        if len(header) != 2 or not all(field.isdigit() and int(field) > 0 for field in header):
            raise ValueError(f"The first line of a word2vec file must be 'N d', two positive integers. Received: {where} (line 1: {len(header)} fields)")
        count, dimension = (int(field) for field in header)
        tokens, vectors = [], np.zeros((count, dimension), np.float32)
        for number, line in lines:
            fields = line.rstrip().split(" ")
            if len(tokens) == count:
                raise ValueError(f"A word2vec file must hold the N={count} lines its header names. Received: {where} (line {number} is one more)")
            try:
                if len(fields) != dimension + 1:
                    raise ValueError
                vectors[len(tokens)] = [float(value) for value in fields[1:]]
            except ValueError:
                raise ValueError(f"Each word2vec line must be a token and d={dimension} numbers. Received: {where} (line {number})") from None
            tokens.append(fields[0])
        if len(tokens) != count:
            raise ValueError(f"A word2vec file must hold the N={count} lines its header names. Received: {where} ({len(tokens)} lines)")
        return cls(tokens, vectors)

    def save_projector(self, folder):
        """Writes ``vectors.tsv`` and ``metadata.tsv`` (one token per line) for projector.tensorflow.org and
        TensorBoard's projector; returns the two paths."""
        os.makedirs(folder, exist_ok=True)
        vectors_path, metadata_path = os.path.join(folder, "vectors.tsv"), os.path.join(folder, "metadata.tsv")
        np.savetxt(vectors_path, self.vectors, delimiter="\t", fmt="%.6g")
        with open(metadata_path, "w", encoding="utf-8") as file:
            file.writelines(token + "\n" for token in self.tokens)
        return vectors_path, metadata_path


def _lines(path, name):
    """(line number, text) of a UTF-8 text file; errors name ``name`` and the file."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`{name}` must be a file path. Received: {name}={type(path).__name__}")
    try:
        with open(path, encoding="utf-8") as file:
            return [(number, line.rstrip("\n")) for number, line in enumerate(file, start=1)]
    except UnicodeDecodeError as error:
        raise ValueError(f"`{name}` must be a UTF-8 text file. Received: {name}={os.fspath(path)!r} (byte {error.start})") from None


def _ranks(values):
    """Ranks 0..n-1, ties given their mean rank (as Spearman's rho needs)."""
    unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    starts = np.cumsum(counts) - counts
    return (starts + (counts - 1) / 2.0)[inverse]


def spearman(x, y):
    """Spearman's rank correlation of two 1-D arrays (Pearson's r of their tie-averaged ranks).

    Example:
    >>> from seqrecipes.data.word_vectors import spearman
    >>> round(spearman([1, 2, 3, 4], [10, 20, 20, 40]), 4)
    0.9487
    """
    rx, ry = _ranks(np.asarray(x, np.float64)), _ranks(np.asarray(y, np.float64))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = np.sqrt((rx**2).sum() * (ry**2).sum())
    return float((rx * ry).sum() / denominator) if denominator else 0.0
