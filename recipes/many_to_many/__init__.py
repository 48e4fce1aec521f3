"""Many-to-many recipes with aligned outputs: one output per input step.

    sequence_tagger             one label per token (a bidirectional LSTM)
    rnn_language_model          the next token at every step, at character or word level
    ngram_language_model        the next token from counts of orders 1..N (seed 004), ARPA in and out
    transformer_language_model  the next token from a decoder-only Transformer (GPT, seed 000)
    masked_language_model       the masked words from both sides, a Transformer encoder (BERT, seed 000)
    bidirectional_language_model  a forward and a backward LSTM LM, one table and softmax (ELMo, seed 000)

The group's catalog in the registry (``recipes/registry.py``); each recipe's code is in ``<recipe>.py``.
"""

from seqrecipes.recipes.registry import register

__all__ = ["bidirectional_language_model", "masked_language_model", "ngram_language_model", "rnn_language_model", "sequence_tagger", "transformer_language_model"]

register("sequence_tagger", task_type="many-to-many (aligned)", serving="tag", datasets=("conll2003",),
         module=f"{__name__}.sequence_tagger", serving_function="tagger_serving", trainer="tagging")  # fmt: skip
register("rnn_language_model", task_type="many-to-many (aligned)", serving="generate", datasets=("tiny_shakespeare",),
         module=f"{__name__}.rnn_language_model", decoder="RNNLanguageModelDecoder", trainer="text")  # fmt: skip
register("ngram_language_model", task_type="many-to-many (aligned)", serving="generate", datasets=(),
         module=f"{__name__}.ngram_language_model", decoder="NGramDecoder")  # fmt: skip
register("transformer_language_model", task_type="many-to-many (aligned)", serving="generate",
         datasets=("tiny_shakespeare",), module=f"{__name__}.transformer_language_model",
         decoder="TransformerLanguageModelDecoder", trainer="text")  # fmt: skip
register("masked_language_model", task_type="many-to-many (aligned)", serving="tag", datasets=(),
         module=f"{__name__}.masked_language_model", serving_function="masked_lm_serving")  # fmt: skip
register("bidirectional_language_model", task_type="many-to-many (aligned)", serving="generate", datasets=(),
         module=f"{__name__}.bidirectional_language_model",
         decoder="BidirectionalLanguageModelDecoder")  # fmt: skip
