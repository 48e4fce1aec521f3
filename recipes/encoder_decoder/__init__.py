"""Many-to-many encoder-decoder recipes: a source sequence in, a target sequence of its own length out.

    seq2seq               a fixed context vector (Sutskever et al. 2014; Cho et al. 2014)
    seq2seq_attention     Bahdanau or Luong attention, alignments for plotting
    transformer_seq2seq   the Transformer (Vaswani et al. 2017), key/value-cached decoding

The group's catalog in the registry (``recipes/registry.py``); each recipe's code is in ``<recipe>.py``, and what
the three share in ``_encoder_decoder.py``.
"""

from seqrecipes.recipes.registry import register

__all__ = ["seq2seq", "seq2seq_attention", "transformer_seq2seq"]

DATASETS = ("date_translation", "sequence_reversal", "digit_addition", "ted_hrlr_translate/pt_to_en")

for _recipe, _decoder in (("seq2seq", "Seq2SeqDecoder"), ("seq2seq_attention", "Seq2SeqAttentionDecoder"),
                          ("transformer_seq2seq", "TransformerSeq2SeqDecoder")):  # fmt: skip
    register(_recipe, task_type="many-to-many (encoder-decoder)", serving="generate", datasets=DATASETS,
             module=f"{__name__}.{_recipe}", decoder=_decoder, trainer="text_pairs")  # fmt: skip
