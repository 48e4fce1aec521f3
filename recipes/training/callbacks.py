"""The callbacks of a long run: a NaN guard that the checkpointing callbacks respect, a backup for exact
resume, a ``.keras`` checkpoint per epoch, and the state reset of stateful (truncated BPTT) models."""

import math
import os

import keras


class TerminateOnNaN(keras.callbacks.TerminateOnNaN):
    """``keras.callbacks.TerminateOnNaN`` that remembers it fired, so that the checkpointing
    callbacks of the same run skip the broken epoch."""

    def __init__(self):
        super().__init__()
        self.terminated = False

    def on_train_begin(self, logs=None):
        self.terminated = False

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.terminated = True
        super().on_batch_end(batch, logs)


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """``keras.callbacks.BackupAndRestore`` that never backs up a state with a non-finite loss
    and keeps the last good backup when the NaN guard stops the run (so a rerun resumes there)."""

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
        super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        if not self.guard.terminated:
            super().on_train_end(logs)


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the whole model (with its optimizer state) as a ``.keras`` file after every epoch
    whose loss is finite; the file is written beside the old one and then renamed over it, so a
    kill during saving leaves the previous checkpoint intact."""

    def __init__(self, filepath, guard):
        super().__init__()
        self.filepath = filepath
        self.guard = guard

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.terminated or not _finite(logs):
            return
        os.makedirs(os.path.dirname(self.filepath) or ".", exist_ok=True)
        partial = self.filepath + ".partial.keras"
        self.model.save(partial)
        os.replace(partial, self.filepath)


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
