"""The callbacks of a long run: a divergence guard that the checkpointing callbacks respect, a backup for
exact resume, a ``.keras`` checkpoint per epoch, and the state reset of stateful (truncated BPTT) models."""

import logging
import glob
import math
import os

import keras
import numpy as np

logger = logging.getLogger(__name__)

# The divergence guard stops a run whose (running) training loss exceeds this many times its best value so
# far and the loss of the run's first batch: "grown by orders of magnitude", as a too large learning rate does.
EXPLOSION_FACTOR = 1e3


class DivergenceGuard(keras.callbacks.Callback):
    """Stops a run at the first sign of divergence and remembers why (``reason``), so that the checkpointing
    callbacks of the same run skip the broken epoch and ``train`` puts the last good weights back.

    It stops (``model.stop_training``) at the end of the first batch whose loss is NaN or infinite, or whose
    loss is more than ``factor`` times both the best loss of the run so far and the loss of its first batch
    (a loss that explodes but stays finite, say 1e11 from a learning rate of 1e10), and at the end of an
    epoch whose weights are not all finite. The losses watched are the ones Keras reports after each batch
    (the running mean of the epoch so far). It keeps a copy of the weights and optimizer state the run
    started from, for a run that breaks in its first epoch.
    """

    def __init__(self, factor=EXPLOSION_FACTOR):
        super().__init__()
        self.factor = factor
        self.terminated = False
        self.reason = None

    def on_train_begin(self, logs=None):
        self.terminated, self.reason = False, None
        self.best = self.first = None
        self.epoch = 0
        self.initial_weights = self.model.get_weights()
        optimizer = getattr(self.model, "optimizer", None)
        self.initial_optimizer = [keras.ops.convert_to_numpy(v) for v in optimizer.variables] if optimizer is not None else []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or self.terminated:
            return
        loss = float(loss)
        where = f"epoch {self.epoch + 1}, batch {batch + 1}"
        if not math.isfinite(loss):
            self._stop(f"a non-finite loss ({loss}) at {where}")
        elif self.best is not None and loss > self.factor * self.best and loss > self.first:
            self._stop(
                f"an exploding loss at {where}: {loss:.4g}, over {self.factor:g} times the best so far "
                f"({self.best:.4g}) and above the first batch's ({self.first:.4g})"
            )
        else:
            self.first = loss if self.first is None else self.first
            self.best = loss if self.best is None else min(self.best, loss)

    def on_epoch_end(self, epoch, logs=None):
        if not self.terminated and not all(np.all(np.isfinite(w)) for w in self.model.get_weights()):
            self._stop(f"non-finite weights after epoch {epoch + 1}")

    def restore_initial_state(self):
        """Puts back the weights (and optimizer state) the run started from."""
        self.model.set_weights(self.initial_weights)
        variables = self.model.optimizer.variables if getattr(self.model, "optimizer", None) is not None else []
        if len(variables) == len(self.initial_optimizer):
            for variable, value in zip(variables, self.initial_optimizer):
                variable.assign(value)

    def _stop(self, reason):
        self.terminated, self.reason = True, reason
        self.model.stop_training = True
        logger.warning("Stopping training: %s.", reason)


def _wrote(path, write):
    """Runs ``write()``; an OSError (a full disk, a read-only folder) is raised again naming ``path``."""
    try:
        write()
    except OSError as error:
        raise OSError(error.errno, f"Could not write {path!r} ({error.strerror or error})", path) from error


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """``keras.callbacks.BackupAndRestore`` that never backs up a state with a non-finite loss
    and keeps the last good backup when the divergence guard stops the run (so a rerun resumes there);
    a failed write (a full disk) raises an OSError naming the backup folder."""

    def __init__(self, backup_dir, guard):
        super().__init__(backup_dir, save_freq="epoch", double_checkpoint=True, delete_checkpoint=True)
        self.guard = guard

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except ValueError as error:
            raise ValueError(
                f"The backup in {self.backup_dir!r} does not fit this model (a killed run of another model or other "
                "settings?). Pass resume=False to start over, or another run_dir. "
                f"Received: {type(error).__name__}: {error}"
            ) from error

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.terminated or not _finite(logs):
            return
        _wrote(self.backup_dir, lambda: super(BackupAndRestore, self).on_epoch_end(epoch, logs))

    def on_train_end(self, logs=None):
        if not self.guard.terminated:
            super().on_train_end(logs)


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the whole model (with its optimizer state) as a ``.keras`` file after every epoch
    whose loss is finite; the file is written beside the old one and then renamed over it, so a
    kill during saving leaves the previous checkpoint intact; a failed write (a full disk) raises an
    OSError naming the checkpoint. With ``keep`` = k > 0 the weights of the last k epochs are kept
    beside it too, ``epoch-NNNN.weights.h5`` (for ``average_checkpoints``)."""

    def __init__(self, filepath, guard, keep=0):
        super().__init__()
        self.filepath = filepath
        self.guard = guard
        self.keep = keep  # also keep the weights of the last ``keep`` epochs (epoch-NNNN.weights.h5)

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.terminated or not _finite(logs):
            return
        partial = self.filepath + ".partial.keras"

        def write():
            os.makedirs(os.path.dirname(self.filepath) or ".", exist_ok=True)
            try:
                self.model.save(partial)
            except OSError:
                if os.path.exists(partial):  # a half-written file: the previous checkpoint stays the last one
                    os.remove(partial)
                raise
            os.replace(partial, self.filepath)

        _wrote(self.filepath, write)
        if self.keep:
            folder = os.path.dirname(self.filepath) or "."
            weights = os.path.join(folder, f"epoch-{epoch + 1:04d}.weights.h5")
            _wrote(weights, lambda: self.model.save_weights(weights))
            for old in sorted(glob.glob(os.path.join(folder, "epoch-*.weights.h5")))[: -self.keep]:
                os.remove(old)


def _finite(logs):
    return all(math.isfinite(float(v)) for k, v in (logs or {}).items() if k.endswith("loss"))


def reset_states_callback(model):
    """A Keras callback that zeroes a stateful model's recurrent states at the start of every epoch
    (and of evaluation), as truncated BPTT over ``data.lm_windows(..., batch_size=B)`` needs.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data, recipes
    >>> model = recipes.rnn_language_model(text_vocabulary_size=12, units=4, embedding_dim=2, stateful=True, batch_size=2)
    >>> windows = tf.data.Dataset.from_tensors(tf.range(4, 12) % 8 + 4).apply(data.lm_windows(3, batch_size=2))
    >>> history = model.fit(windows, epochs=2, verbose=0, callbacks=[recipes.reset_states_callback(model)])
    >>> len(history.history["loss"])
    2
    """

    def reset(*args):
        for layer in model.layers:
            if getattr(layer, "stateful", False):
                layer.reset_state()

    return keras.callbacks.LambdaCallback(on_epoch_begin=reset, on_test_begin=reset)
