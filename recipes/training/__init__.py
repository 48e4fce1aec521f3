"""Training: ``train`` (``model.fit`` with checkpoints, exact resume, early stopping, TensorBoard and a
divergence guard), its callbacks, the token-id check of ``RecipeModel.fit``, and the metrics of sequence models.

    trainer.py     train
    averaging.py   average_checkpoints, epoch_checkpoints: the mean of a run's last k epoch weights
    callbacks.py   the divergence guard (NaN or exploding loss, non-finite weights), backup and checkpoint
                   callbacks, reset_states_callback
    token_ids.py   the check that token ids at fit and evaluate are inside their vocabularies
    losses.py      token_loss and LabelSmoothingCrossentropy: the generating recipes' loss, label-smoothed
                   with ``label_smoothing``
    metrics.py     Perplexity, TokenAccuracy, ExactMatch, TaggingF1 (Keras metrics); bleu, exact_match,
                   generation_scores (on decoded strings)
    bleu.py        sacre_bleu: sacreBLEU's corpus BLEU and signature, without sacreBLEU
    clipping.py    summed_before_clipping: under a strategy, clip the global batch's gradient, not each
                   replica's (entered by RecipeModel.fit)
"""

from seqrecipes.recipes.training import metrics
from seqrecipes.recipes.training.averaging import average_checkpoints, epoch_checkpoints
from seqrecipes.recipes.training.callbacks import reset_states_callback
from seqrecipes.recipes.training.trainer import train

__all__ = ["average_checkpoints", "epoch_checkpoints", "metrics", "reset_states_callback", "train"]
