"""seqrecipes.recipes: one recipe a file, grouped by the seeds' task types, and the machinery they share.

    one_to_one/, one_to_many/, many_to_one/, many_to_many/, encoder_decoder/
                      a task type each: ``<recipe>.py`` holds a recipe (its builder, its ``Decoder``, its
                      serving function); the package's ``__init__`` is its catalog in the registry
    decoding/         the ``Decoder`` contract; greedy search, sampling, beam search, generate, alignments
    serving/          export for TF Serving, its signatures and warm-up requests, predict
    training/         train (checkpoints, exact resume, early stopping, divergence guard), checkpoint averaging,
                      callbacks, metrics
    cli/              the ``seqrecipes`` command line and the demo
    registry.py       every recipe with its task type, serving kind and data sets
    recipe_model.py   ``RecipeModel``, the compiled Keras model every recipe returns
    plots.py          attention heatmaps, word vectors and encoder states in two dimensions (PCA)
    embeddings.py     word vectors out of and into any recipe's ``embedding`` table
    backbones.py      a pretrained GPT, BERT or ELMo body inside a downstream recipe (fine_tune)

Imports point down: a recipe file imports decoding, serving, training, ``seqrecipes.layers`` and
``seqrecipes.data``, never another recipe file; those never import a recipe file (the registry loads
one by its module path). ``list_recipes()`` (and ``seqrecipes list``) shows the recipes.
"""

import seqrecipes
from seqrecipes.recipes import encoder_decoder, many_to_many, many_to_one, one_to_many, one_to_one  # noqa: F401 (their catalogs fill the registry)
from seqrecipes.recipes.registry import TASK_TYPES, RecipeInfo, get_recipe, list_recipes

# The public API. The command line (seqrecipes.COMMAND_LINE, set by its entry point before anything is
# imported) skips it: each command imports what it uses, so that --help and list never load TensorFlow.
if not seqrecipes.COMMAND_LINE:
    from seqrecipes.recipes.decoding import (
        Decoder,
        attention_alignments,
        beam_search,
        generate,
        greedy_search,
        prompt_ids,
        sample,
        score,
        sequence_lengths,
    )
    from seqrecipes.recipes.encoder_decoder._encoder_decoder import source_ids
    from seqrecipes.recipes.encoder_decoder.seq2seq import Seq2SeqDecoder, seq2seq
    from seqrecipes.recipes.encoder_decoder.seq2seq_attention import Seq2SeqAttentionDecoder, seq2seq_attention
    from seqrecipes.recipes.encoder_decoder.transformer_seq2seq import TransformerSeq2SeqDecoder, transformer_seq2seq
    from seqrecipes.recipes.many_to_many.bidirectional_language_model import BidirectionalLanguageModelDecoder, bidirectional_language_model
    from seqrecipes.recipes.many_to_many.masked_language_model import masked_ids, masked_language_model
    from seqrecipes.recipes.many_to_many.ngram_language_model import NGramDecoder, ngram_language_model, read_arpa, write_arpa
    from seqrecipes.recipes.many_to_many.rnn_language_model import RNNLanguageModelDecoder, rnn_language_model
    from seqrecipes.recipes.many_to_many.sequence_tagger import predict_tags, sequence_tagger
    from seqrecipes.recipes.many_to_many.transformer_language_model import (
        TransformerLanguageModelDecoder,
        transformer_language_model,
    )
    from seqrecipes.recipes.many_to_one.sequence_regressor import sequence_regressor
    from seqrecipes.recipes.many_to_one.text_classifier import text_classifier, token_ids
    from seqrecipes.recipes.one_to_many.image_captioner import ImageCaptionerDecoder, image_captioner
    from seqrecipes.recipes.one_to_one.window_language_model import (
        WindowLanguageModelDecoder,
        window_contexts,
        window_language_model,
    )
    from seqrecipes.recipes.one_to_one.word2vec import train_word2vec, word2vec
    from seqrecipes.recipes.embeddings import set_embedding, word_vectors
    from seqrecipes.recipes.backbones import fine_tune, load_backbone
    from seqrecipes.recipes.plots import encoder_summaries, hangul_font, pca_2d, plot_alignments, plot_points, plot_word_vectors
    from seqrecipes.recipes.recipe_model import RecipeModel
    from seqrecipes.recipes.serving import export, predict
    from seqrecipes.recipes.training import average_checkpoints, epoch_checkpoints, metrics, reset_states_callback, train

__all__ = [
    # the recipes, by task type
    "window_language_model",
    "word2vec",
    "image_captioner",
    "text_classifier",
    "sequence_regressor",
    "sequence_tagger",
    "rnn_language_model",
    "ngram_language_model",
    "transformer_language_model",
    "masked_language_model",
    "bidirectional_language_model",
    "seq2seq",
    "seq2seq_attention",
    "transformer_seq2seq",
    # their decoders and the raw-input steps of their exports
    "WindowLanguageModelDecoder",
    "ImageCaptionerDecoder",
    "RNNLanguageModelDecoder",
    "BidirectionalLanguageModelDecoder",
    "NGramDecoder",
    "TransformerLanguageModelDecoder",
    "Seq2SeqDecoder",
    "Seq2SeqAttentionDecoder",
    "TransformerSeq2SeqDecoder",
    "window_contexts",
    "token_ids",
    "prompt_ids",
    "predict_tags",
    "source_ids",
    "write_arpa",
    "read_arpa",
    "masked_ids",
    "train_word2vec",
    # word vectors in and out of embeddings
    "word_vectors",
    "set_embedding",
    # fine-tuning a pretrained body in a downstream recipe
    "fine_tune",
    "load_backbone",
    # decoding
    "Decoder",
    "greedy_search",
    "sample",
    "beam_search",
    "generate",
    "score",
    "sequence_lengths",
    "attention_alignments",
    # training, serving, pictures
    "train",
    "average_checkpoints",
    "epoch_checkpoints",
    "reset_states_callback",
    "metrics",
    "predict",
    "export",
    "plot_alignments",
    "plot_points",
    "plot_word_vectors",
    "pca_2d",
    "encoder_summaries",
    "hangul_font",
    # the registry
    "RecipeModel",
    "RecipeInfo",
    "TASK_TYPES",
    "get_recipe",
    "list_recipes",
]
