"""seqrecipes.data: tokenizers and vocabularies, tf.data transforms, batch builders and dataset sources.

word2vec's examples (``dataset.apply`` steps of TF ops): ``word_counts``, ``word2vec_batches`` (subsampling,
dynamic windows, skip-gram or CBOW, unigram^0.75 negatives; ``noise_distribution``, ``keep_probabilities``);
``WordVectors`` (nearest neighbours, analogies, WordSim353 and analogy benchmarks, the word2vec text format,
projector TSV files).

A masked language model's batches (BERT's 15% with 80/10/10): ``mask_tokens``, ``masked_lm_batches``.

Vectors of token ids (seed 003; Keras preprocessing layers): ``OneHot`` and ``BagOfWords`` (count,
binary, TF-IDF).

Tokenizers (Keras preprocessing layers made of TensorFlow ops; reserved ids 0 ``[PAD]``,
1 ``[UNK]``, 2 ``[START]``, 3 ``[END]``): ``CharTokenizer``, ``WordTokenizer``,
``SubwordTokenizer`` (WordPiece), ``SentencePieceTokenizer``, over a shared ``Vocabulary``.

Pipeline steps (functions returning a transform for ``dataset.apply``): ``tokenize``,
``truncate_or_pad``, ``batch_with_padding``, ``bucket_by_length``, ``teacher_forcing_shift``,
``lm_prefixes``, ``lm_windows``, ``bidirectional_lm_targets``, ``series_windows``, ``shuffle``, ``cache``, ``prefetch``.

Batch builders (one ``dataset.apply`` step from raw examples to a recipe's batches):
``seq2seq_batches``, ``tagging_batches`` (with ``tag_ids``), ``caption_batches``,
``window_batches``.

Sources: synthetic tasks (``adding_problem``, ``copy_memory``, ``sequence_reversal``,
``digit_addition``, ``date_translation``, ``shapes_captioning``, ``noisy_periodic_series``),
real data sets shipped by installed packages (``digit_rows``, ``digit_strips``,
``statsmodels_series``), TensorFlow Datasets by name (``load_tfds``) and the user's files
(``text_lines``, ``text_document``, ``delimited_file``, ``conll_file``, ``from_series``).

Helpers that the steps share but users do not call (``flat_strings``, ``dense_elements``) stay in
their modules (``seqrecipes.data.strings``, ``seqrecipes.data.transforms``).
"""

from seqrecipes.data.batches import caption_batches, seq2seq_batches, tag_ids, tagging_batches, window_batches
from seqrecipes.data.char_tokenizer import CharTokenizer
from seqrecipes.data.date_translation import DATE_FORMATS, date_translation, format_date, is_test_date
from seqrecipes.data.handwritten_digits import digit_rows, digit_strips
from seqrecipes.data.language_model import bidirectional_lm_targets, lm_prefixes, lm_windows
from seqrecipes.data.masking import MASK_SELECTION_RATE, mask_tokens, masked_lm_batches
from seqrecipes.data.padding import (
    batch_with_padding,
    bucket_by_length,
    choose_bucket_boundaries,
    sequence_length,
    truncate_or_pad,
)
from seqrecipes.data.sentence_piece_tokenizer import SentencePieceTokenizer
from seqrecipes.data.series import clean_series, from_series, series_windows
from seqrecipes.data.shapes_captioning import shapes_captioning
from seqrecipes.data.statsmodels_series import STATSMODELS_SERIES, statsmodels_series, statsmodels_values
from seqrecipes.data.strings import replace_invalid_utf8
from seqrecipes.data.subword_tokenizer import SubwordTokenizer
from seqrecipes.data.synthetic_tasks import (
    adding_problem,
    copy_memory,
    digit_addition,
    noisy_periodic_series,
    sequence_reversal,
)
from seqrecipes.data.text_files import conll_file, delimited_file, text_document, text_lines
from seqrecipes.data.tfds_datasets import TFDS_DATASETS, load_tfds
from seqrecipes.data.tokenizer import Tokenizer
from seqrecipes.data.transforms import cache, prefetch, shuffle, teacher_forcing_shift, tokenize
from seqrecipes.data.vectorizers import BAG_MODES, BagOfWords, OneHot
from seqrecipes.data.vocabulary import (
    END_ID,
    END_TOKEN,
    MASK_TOKEN,
    PAD_ID,
    PAD_TOKEN,
    RESERVED_TOKENS,
    START_ID,
    START_TOKEN,
    UNKNOWN_ID,
    UNKNOWN_TOKEN,
    Vocabulary,
)
from seqrecipes.data.word2vec import (
    ARCHITECTURES,
    keep_probabilities,
    noise_distribution,
    word2vec_batches,
    word_counts,
)
from seqrecipes.data.word_tokenizer import WordTokenizer, split_words
from seqrecipes.data.word_vectors import WordVectors

__all__ = [
    "ARCHITECTURES",
    "BAG_MODES",
    "BagOfWords",
    "CharTokenizer",
    "DATE_FORMATS",
    "END_ID",
    "END_TOKEN",
    "MASK_SELECTION_RATE",
    "MASK_TOKEN",
    "OneHot",
    "PAD_ID",
    "PAD_TOKEN",
    "RESERVED_TOKENS",
    "START_ID",
    "START_TOKEN",
    "STATSMODELS_SERIES",
    "SentencePieceTokenizer",
    "SubwordTokenizer",
    "TFDS_DATASETS",
    "Tokenizer",
    "UNKNOWN_ID",
    "UNKNOWN_TOKEN",
    "Vocabulary",
    "WordTokenizer",
    "WordVectors",
    "adding_problem",
    "batch_with_padding",
    "bucket_by_length",
    "cache",
    "caption_batches",
    "choose_bucket_boundaries",
    "clean_series",
    "conll_file",
    "copy_memory",
    "date_translation",
    "delimited_file",
    "digit_addition",
    "digit_rows",
    "digit_strips",
    "format_date",
    "from_series",
    "is_test_date",
    "keep_probabilities",
    "bidirectional_lm_targets",
    "lm_prefixes",
    "lm_windows",
    "load_tfds",
    "mask_tokens",
    "masked_lm_batches",
    "noise_distribution",
    "noisy_periodic_series",
    "prefetch",
    "replace_invalid_utf8",
    "seq2seq_batches",
    "sequence_length",
    "sequence_reversal",
    "series_windows",
    "shapes_captioning",
    "shuffle",
    "split_words",
    "statsmodels_series",
    "statsmodels_values",
    "tag_ids",
    "tagging_batches",
    "teacher_forcing_shift",
    "text_document",
    "text_lines",
    "tokenize",
    "truncate_or_pad",
    "window_batches",
    "word2vec_batches",
    "word_counts",
]
