"""Where an attention model looked: the alignments of its own output, or of a given one, for plotting."""

import numpy as np
from keras import ops

from seqrecipes.data import PAD_ID, START_ID
from seqrecipes.recipes.decoding.decoder import Decoder
from seqrecipes.recipes.decoding.greedy import greedy_search


def attention_alignments(model, inputs, target_in=None, max_length=None):
    """The attention weights of every output token of a model whose decoder attends, as arrays.

    Without ``target_in`` the model writes its output greedily (as ``greedy_search``) and the
    alignments are those of its own tokens; with ``target_in`` (teacher forcing) they are those of
    the given tokens, and ``ids`` holds the decoder's most probable token at each position. Either
    way the tokens are replayed through ``model.decoder.step`` and ``decoder.alignments(state)`` is
    read after each step: alpha_t of Bahdanau or Luong attention (``seq2seq_attention``,
    ``image_captioner``: S = the h*w feature-map positions, reshape a row to (h, w)), the last
    block's cross-attention averaged over the heads (``transformer_seq2seq``).

    Args:
        model: a ``RecipeModel`` whose decoder has alignments (``seq2seq_attention``,
            ``transformer_seq2seq``, ``image_captioner``).
        inputs: raw inputs as the export takes them (source strings (B,), or images (B, H, W, C)), or
            the decoder's inputs (source ids (B, S)).
        target_in: optional ids (B, T), ``[START] y_1 ..`` padded with 0, at most the model's output
            limit wide.
        max_length: the greedy decoding limit (at most the model's output limit; default: it).

    Returns:
        ``(ids, alignments)`` as NumPy arrays: ids (B, L) int32 (the greedy output, [END] included
        where produced and 0 after it; or the most probable token at each position of
        ``target_in``, 0 at its padding), alignments (B, L, S) float32, row t the weights over the
        S source positions when token t was produced, summing to 1 over the real ones, 0 where
        there is no token.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abcd"))
    >>> model = recipes.seq2seq_attention(units=8, embedding_dim=4, max_target_length=6,
    ...                                   source_tokenizer=tokenizer, target_tokenizer=tokenizer)
    >>> ids, alignments = recipes.attention_alignments(model, ["abc", "dcba"])
    >>> alignments.shape
    (2, 6, 4)
    >>> bool(np.allclose(alignments.sum(-1), ids != 0))
    True
    """
    decoder = model.decoder
    if type(decoder).alignments is Decoder.alignments:
        raise ValueError(
            "attention_alignments needs a model whose decoder attends (seq2seq_attention, transformer_seq2seq, "
            f"image_captioner). Received: model.recipe={model.recipe!r}"
        )
    encoded = decoder.inputs_from_raw(inputs)
    if target_in is None:
        ids, _ = greedy_search(decoder, encoded, max_length=max_length)
        start = ops.full((ops.shape(ids)[0], 1), START_ID, "int32")
        target_in = ops.concatenate([start, ids[:, :-1]], axis=1)  # the tokens the decoder was fed
        keep = ops.not_equal(ids, PAD_ID)  # (B, L): the output tokens, [END] included
    else:
        target_in = ops.cast(target_in, "int32")
        if target_in.shape[1] > decoder.max_length:
            raise ValueError(
                f"`target_in` must be at most the model's output limit ({decoder.max_length}) wide. "
                f"Received: target_in.shape={tuple(target_in.shape)}"
            )
        ids, keep = None, ops.not_equal(target_in, PAD_ID)
    state = decoder.encode(encoded)
    alphas, best = [], []
    for t in range(target_in.shape[1]):  # an analysis tool: a Python loop over the (few) steps
        logits, state = decoder.step(target_in[:, t], state, t)
        alphas.append(ops.cast(decoder.alignments(state)[0], "float32"))  # (B, S)
        best.append(ops.cast(ops.argmax(logits, axis=-1), "int32"))  # (B,)
    alignments = ops.where(keep[:, :, None], ops.stack(alphas, axis=1), 0.0)  # (B, L, S)
    if ids is None:
        ids = ops.where(keep, ops.stack(best, axis=1), PAD_ID)
    return np.asarray(ops.convert_to_numpy(ids), "int32"), np.asarray(ops.convert_to_numpy(alignments), "float32")
