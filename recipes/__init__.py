"""seqrecipes.recipes: one function per task type, plus training, decoding, export and the CLI.

Every recipe returns a compiled ``RecipeModel``; ``list_recipes()`` (and ``seqrecipes list``)
shows them with their task types.
"""

from seqrecipes.recipes.decoding import Decoder, beam_search, generate, greedy_search, sample, sequence_lengths
from seqrecipes.recipes import metrics
from seqrecipes.recipes.export import export, next_version
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.registry import RECIPES, TASK_TYPES, RecipeInfo, get_recipe, register
from seqrecipes.recipes.demo import run_demo
from seqrecipes.recipes.training import predict, train
from seqrecipes.recipes.one_to_one import WindowDecoder, window_contexts, window_examples, window_language_model
from seqrecipes.recipes.many_to_one import sequence_regressor, text_classifier
from seqrecipes.recipes.many_to_many import (
    LanguageModelDecoder,
    predict_tags,
    prompt_ids,
    reset_states_callback,
    rnn_language_model,
    sequence_tagger,
    tag_ids,
    tagging_batches,
)
from seqrecipes.recipes import encoder_decoder
from seqrecipes.recipes.encoder_decoder import seq2seq, seq2seq_attention, seq2seq_batches, transformer_seq2seq
from seqrecipes.recipes.one_to_many import CaptionDecoder, caption_alignments, caption_batches, image_captioner


def list_recipes():
    """The registered recipes, as ``RecipeInfo`` records sorted by task type and name."""
    order = {task: i for i, task in enumerate(TASK_TYPES)}
    return sorted(RECIPES.values(), key=lambda info: (order[info.task_type], info.name))
