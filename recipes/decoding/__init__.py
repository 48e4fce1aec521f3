"""Decoding inside one graph: the ``Decoder`` contract and the searches, one strategy a file.

    decoder.py      Decoder (encode once, then step), ban_never_generated, sequence_lengths
    greedy.py       greedy_search: the most probable next token at each step
    sampling.py     sample: temperature, top-k and top-p (nucleus) filtering, under a seed
    beam.py         beam_search: GNMT length and coverage penalties, the n-best with scores
    generation.py   generate: one entry point choosing among the three; settings may be scalar tensors
    controls.py     min_length, no_repeat_ngram_size, repetition_penalty, banned: the step logits controlled
    alignments.py   attention_alignments: where an attention model looked, for plotting
    scoring.py      score: log p(sentence) (or log p(y | x)) per sentence, per token, and perplexity
    prompts.py      prompt_ids: [START] + a prompt's ids for the language models, cut to MAX_PROMPT_LENGTH
    recurrent_lm.py RecurrentLanguageModelDecoder: the steps of the recurrent language models' decoders
    _loop.py        the token loop greedy search and sampling share
    _settings.py    Python settings checked, tensor settings clamped

Every search encodes once; sampling and beam search then repeat the encoded state along the batch
axis (``num_results`` samples or ``beam_width`` beams per input), so users never tile inputs by hand.
The loops are ``keras.ops.while_loop`` closures, so they run inside ``tf.function`` and export.
"""

from seqrecipes.recipes.decoding.alignments import attention_alignments
from seqrecipes.recipes.decoding.beam import beam_search
from seqrecipes.recipes.decoding.decoder import NEVER_GENERATED, Decoder, ban_never_generated, sequence_lengths
from seqrecipes.recipes.decoding.prompts import MAX_PROMPT_LENGTH, prompt_ids
from seqrecipes.recipes.decoding.generation import generate
from seqrecipes.recipes.decoding.greedy import greedy_search
from seqrecipes.recipes.decoding.sampling import sample
from seqrecipes.recipes.decoding.scoring import score

__all__ = [
    "MAX_PROMPT_LENGTH",
    "NEVER_GENERATED",
    "Decoder",
    "attention_alignments",
    "ban_never_generated",
    "beam_search",
    "generate",
    "greedy_search",
    "prompt_ids",
    "sample",
    "score",
    "sequence_lengths",
]
