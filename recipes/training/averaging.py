"""``average_checkpoints``: the mean of a run's last k epoch weights, one model (as translation systems ship).

``train(..., keep_checkpoints=k)`` keeps the weights after each of the last k epochs as
``run_dir/checkpoints/epoch-NNNN.weights.h5``; ``average_checkpoints(model, run_dir)`` loads their mean
into ``model``. Averaging the weights of the last checkpoints of one run (Vaswani et al. 2017 average
the last 5 or 20; Junczys-Dowmunt et al. 2016 the last 4) smooths the noise of the last updates
without any more training.
"""

import glob
import os

import numpy as np

CHECKPOINT_PATTERN = "epoch-*.weights.h5"


def epoch_checkpoints(run_dir):
    """The kept epoch weights of a run, oldest first: ``run_dir/checkpoints/epoch-NNNN.weights.h5``.

    Example:
    >>> import tempfile
    >>> from seqrecipes import recipes
    >>> recipes.epoch_checkpoints(tempfile.mkdtemp())  # a run trained without keep_checkpoints
    []
    """
    return sorted(glob.glob(os.path.join(run_dir, "checkpoints", CHECKPOINT_PATTERN)))


def average_checkpoints(model, checkpoints, last=None):
    """Loads the element-wise mean of several checkpoints' weights into ``model`` and returns it.

        w = (1 / k) sum_{i=1..k} w_i        for every floating-point weight (also non-trainable ones)

    Integer and boolean variables (step counters, lookup tables) take the newest checkpoint's value.
    The optimizer state is not averaged: the model is for evaluation, export or fine-tuning from
    there.

    Args:
        model: a built Keras model of the checkpoints' architecture.
        checkpoints: a run folder (its ``checkpoints/epoch-*.weights.h5``, kept by
            ``train(..., keep_checkpoints=k)``) or a list of ``.weights.h5`` / ``.keras`` files, oldest
            first.
        last: average only the newest ``last`` of them (None: all).

    Returns:
        ``model``, holding the averaged weights.

    Raises:
        ValueError: no checkpoint found, ``last`` not a positive integer or more than there are, or a
            checkpoint that does not fit the model (the message names the file and the model).

    Example:
    >>> import os, tempfile, numpy as np, keras
    >>> from seqrecipes import recipes
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> run = tempfile.mkdtemp()
    >>> history = recipes.train(model, np.ones((8, 2)), y=np.ones((8, 1)), epochs=3, run_dir=run,
    ...                         keep_checkpoints=2, verbose=0)
    >>> [os.path.basename(p) for p in recipes.epoch_checkpoints(run)]
    ['epoch-0002.weights.h5', 'epoch-0003.weights.h5']
    >>> recipes.average_checkpoints(model, run, last=2) is model
    True
    """
    paths = _paths(checkpoints)
    if last is not None:
        if isinstance(last, bool) or not isinstance(last, int) or not 1 <= last <= len(paths):
            raise ValueError(f"`last` must be an integer in [1, {len(paths)}] (the checkpoints found). Received: last={last!r}")
        paths = paths[-last:]
    if not model.built:
        raise ValueError(f"`model` must be built to take checkpoint weights. Received: model={model.name!r}, not built")
    floating = [np.issubdtype(np.dtype(v.dtype), np.floating) for v in model.weights]
    total = None
    for path in paths:
        try:
            model.load_weights(path)
        except (ValueError, KeyError, OSError) as error:
            raise ValueError(
                f"Checkpoint {path!r} does not fit model {model.name!r}: {type(error).__name__}: {str(error)[:300]}"
            ) from error
        values = [np.asarray(v) for v in model.weights]
        if total is None:
            total = [v.astype("float64") if f else v for v, f in zip(values, floating)]
        else:
            total = [t + v if f else v for t, v, f in zip(total, values, floating)]
    mean = [(t / len(paths)).astype(v.dtype) if f else t for t, v, f in zip(total, values, floating)]
    for variable, value in zip(model.weights, mean):
        variable.assign(value)
    return model


def _paths(checkpoints):
    if isinstance(checkpoints, (str, os.PathLike)) and os.path.isdir(checkpoints):
        paths = epoch_checkpoints(checkpoints)
        if not paths:
            raise ValueError(
                f"`checkpoints` names a run folder with no kept epoch weights ({CHECKPOINT_PATTERN} under checkpoints/); "
                f"train with keep_checkpoints=k. Received: checkpoints={os.fspath(checkpoints)!r}"
            )
        return paths
    if isinstance(checkpoints, (str, os.PathLike)):
        raise ValueError(f"`checkpoints` must be a run folder or a list of checkpoint files. Received: checkpoints={checkpoints!r}")
    paths = [os.fspath(p) for p in checkpoints]
    if not paths:
        raise ValueError("`checkpoints` must name at least one checkpoint. Received: checkpoints=[]")
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise ValueError(f"`checkpoints` must be existing files. Received: {missing[0]!r}, which does not exist")
    return paths
