"""``train``: ``model.fit`` with the callbacks a long run needs.

``train(model, train_data, validation_data)`` is ``model.fit`` with, under ``run_dir``:

    run_dir/backup/                 the training state after the last finished epoch (weights,
                                    optimizer state, epoch number): a killed run resumes there
    run_dir/checkpoints/last.keras  the whole model (optimizer state included) after each epoch
    run_dir/checkpoints/epoch-NNNN.weights.h5   with keep_checkpoints=k, the weights of the last k
                                    epochs (``average_checkpoints`` averages them)
    run_dir/logs/                   TensorBoard logs (``tensorboard --logdir run_dir/logs``)
    run_dir/workers/worker-N/       under MultiWorkerMirroredStrategy, the same files of every worker
                                    but the chief (each worker backs up and resumes on its own; the
                                    workers train in step, so their backups hold the same state)

plus early stopping with the best weights restored, and a divergence guard that stops at the first
non-finite loss, exploding loss (``EXPLOSION_FACTOR`` times the best) or non-finite weights, writes
nothing from that epoch and puts the last good weights back.
"""

import json
import logging
import os
import shutil
import warnings

import keras
import tensorflow as tf

from seqrecipes._checks import check_positive_int
from seqrecipes.recipes.training.callbacks import EXPLOSION_FACTOR, BackupAndRestore, DivergenceGuard, EpochCheckpoint

logger = logging.getLogger(__name__)


def _tensorboard_installed():
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        warnings.warn("TensorBoard is not installed (pip install tensorboard); training without TensorBoard logs.")
        return False
    return True


def backed_up_epoch(run_dir):
    """The number of finished epochs a killed run in ``run_dir`` backed up (0 if none)."""
    path = os.path.join(run_dir, "backup", "training_metadata.json")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return int(json.load(f)["epoch"])


def train(
    model,
    train_data,
    validation_data=None,
    *,
    epochs=10,
    run_dir=None,
    patience=None,
    monitor=None,
    resume=True,
    tensorboard=True,
    verbose="auto",
    callbacks=None,
    keep_checkpoints=0,
    strategy=None,
    **fit_kwargs,
):
    """Trains ``model`` with ``model.fit``, checkpointing, resuming, early stopping and a divergence guard.

    Resuming: with ``resume=True`` a run that was killed (or raised) after finishing some epochs
    continues, when ``train`` is called again with the same ``run_dir``, from the state after
    the last finished epoch: the weights, the optimizer state (Adam's moments, the step count)
    and the epoch number are restored, and the remaining epochs run. The result is exactly that
    of an uninterrupted run when every epoch sees the data in the same order (no shuffling, or
    ``shuffle(..., seed=s, reshuffle_each_iteration=False)``) and the model has no dropout (the
    random state of dropout is not backed up). A pipeline that reshuffles every epoch resumes
    correctly but with other orders than the uninterrupted run would have drawn (tf.data draws
    an order each time Keras makes an iterator, which it does a version-dependent number of
    times per epoch). The backup is deleted when a run finishes.

    Divergence guard: the run stops at the end of the first batch whose loss is NaN or infinite,
    or has exploded: more than ``EXPLOSION_FACTOR`` (1e3) times both the best loss of the run so far
    and the loss of its first batch (the losses Keras reports after each batch, the running mean of
    the epoch); and at the end of an epoch whose weights are not all finite. That epoch is neither
    backed up nor checkpointed, the weights of the last good epoch are loaded back into ``model``
    (those it started with, optimizer state included, when it broke in its first epoch), and a
    warning (also logged) says why it stopped; so does ``history.stopped_because``. The backup
    stays, so calling ``train`` again (say with a smaller learning rate) resumes from the last
    good epoch. A failed write of the backup or checkpoint (a full disk) raises an OSError naming
    the file or folder.

    Args:
        model: a compiled Keras model (any; recipes return compiled ``RecipeModel``s). It must
            be built (recipes are) for a resume.
        train_data: what ``model.fit`` takes as ``x`` (a ``tf.data.Dataset`` of (inputs,
            targets) batches usually).
        validation_data: as ``model.fit``'s ``validation_data``, or None.
        epochs: the total number of epochs (a resumed run counts the ones already done).
        run_dir: the folder of the run's backup, checkpoints and logs; ``"runs/<model.name>"``
            by default.
        patience: stop after this many epochs without improvement of ``monitor`` and restore
            the best weights; ``None`` trains every epoch.
        monitor: the quantity early stopping watches; ``"val_loss"`` with validation data,
            else ``"loss"``.
        resume: continue a killed run found in ``run_dir``; ``False`` deletes its backup and
            starts from ``model`` as it is.
        tensorboard: write TensorBoard logs under ``run_dir/logs``.
        verbose: as ``model.fit`` (``"auto"``: a progress bar when interactive).
        callbacks: more Keras callbacks, run after these.
        keep_checkpoints: k >= 0; also keep the weights after each of the last k epochs,
            ``run_dir/checkpoints/epoch-NNNN.weights.h5``, for ``average_checkpoints`` (0: none).
        strategy: a ``tf.distribute.Strategy`` (``MirroredStrategy`` over the GPUs or CPU devices of
            one machine, ``MultiWorkerMirroredStrategy`` over machines from ``TF_CONFIG``, a TPU
            strategy); None trains on the default device. A ``RecipeModel`` built outside the
            strategy is built and compiled again inside its scope from its config (the recipe runs
            again), given ``model``'s weights, trained, and its weights are copied back into
            ``model`` (the optimizer state stays with the run's backup and checkpoints). The batches
            of ``train_data`` are global batches, split across the replicas: their size must be a
            multiple of ``strategy.num_replicas_in_sync``.
        **fit_kwargs: passed on to ``model.fit`` (``steps_per_epoch``, ``class_weight``, ...).

    Returns:
        The ``History`` of this call's epochs, with ``stopped_because``: None when every epoch ran,
        ``"early stopping"``, or the divergence guard's reason (``"an exploding loss at epoch 3,
        batch 1: ..."``, ``"a non-finite loss (nan) at ..."``, ``"non-finite weights after ..."``).

    Raises:
        ValueError: a bad argument, an uncompiled model, a backup of another model in ``run_dir``,
            or (for a ``RecipeModel``) a token id outside its embedding's vocabulary.
        OSError: the backup or the checkpoint could not be written; the message names the path.

    Example:
    >>> import tempfile, numpy as np, keras
    >>> from seqrecipes import recipes
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> x, y = np.ones((8, 2)), np.zeros((8, 1))
    >>> history = recipes.train(model, x, y=y, epochs=2, run_dir=tempfile.mkdtemp(), verbose=0)
    >>> len(history.history["loss"]), history.stopped_because
    (2, None)
    """
    check_positive_int("epochs", epochs)
    if strategy is not None:
        replica = _in_scope(model, strategy, train_data)
        if replica is not model:
            kwargs = dict(run_dir=run_dir or os.path.join("runs", model.name), patience=patience, monitor=monitor, resume=resume,
                          tensorboard=tensorboard, verbose=verbose, callbacks=callbacks, keep_checkpoints=keep_checkpoints)  # fmt: skip
            history = train(replica, train_data, validation_data, epochs=epochs, **kwargs, **fit_kwargs)  # fit reads its strategy
            model.set_weights(replica.get_weights())
            return history
    if isinstance(keep_checkpoints, bool) or not isinstance(keep_checkpoints, int) or keep_checkpoints < 0:
        raise ValueError(f"`keep_checkpoints` must be an integer >= 0. Received: keep_checkpoints={keep_checkpoints!r}")
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 0):
        raise ValueError(f"`patience` must be None or an integer >= 0. Received: patience={patience!r}")
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise ValueError(f"`model` must be compiled before training. Received: model={getattr(model, 'name', model)!r}")
    run_dir = worker_run_dir(run_dir or os.path.join("runs", model.name), model.distribute_strategy)
    backup_dir = os.path.join(run_dir, "backup")
    if not resume and os.path.exists(backup_dir):
        shutil.rmtree(backup_dir)
    monitor = monitor or ("val_loss" if validation_data is not None else "loss")

    finished = backed_up_epoch(run_dir)
    if finished:
        logger.info("Resuming %s after epoch %d", run_dir, finished)
        if finished >= epochs:
            warnings.warn(f"The run in {run_dir!r} already finished {finished} of epochs={epochs}; nothing left to train.")

    guard = DivergenceGuard(EXPLOSION_FACTOR)
    run_callbacks = [
        guard,
        BackupAndRestore(backup_dir, guard),
        EpochCheckpoint(os.path.join(run_dir, "checkpoints", "last.keras"), guard, keep=keep_checkpoints),
    ]
    stopping = None
    if patience is not None:
        stopping = keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True, verbose=1 if verbose else 0)
        run_callbacks.append(stopping)
    if tensorboard and _tensorboard_installed():
        run_callbacks.append(keras.callbacks.TensorBoard(log_dir=os.path.join(run_dir, "logs")))
    run_callbacks.extend(callbacks or [])
    if isinstance(train_data, tf.data.Dataset):
        fit_kwargs.setdefault("shuffle", False)  # a dataset shuffles itself; Keras warns otherwise

    with warnings.catch_warnings():
        if fit_kwargs.get("steps_per_epoch") is None:
            # Without steps_per_epoch the end of the data is the end of the epoch, not an interruption; Keras
            # still warns "Your input ran out of data" at the first end of a dataset of unknown length (bucketed
            # batches, every file on the command line).
            warnings.filterwarnings("ignore", message="Your input ran out of data", category=UserWarning)
        history = model.fit(
            train_data,
            validation_data=validation_data,
            epochs=epochs,
            callbacks=run_callbacks,
            verbose=verbose,
            **fit_kwargs,
        )
    history.stopped_because = None
    if guard.terminated:
        history.stopped_because = guard.reason
        _restore_last_good(model, backup_dir, guard)
    elif stopping is not None and stopping.stopped_epoch > 0:
        history.stopped_because = "early stopping"
    return history


def worker_run_dir(run_dir, strategy):
    """The folder a worker of ``strategy`` writes its run to: ``run_dir`` itself, except on a
    MultiWorkerMirroredStrategy worker other than the chief, which writes to ``run_dir/workers/<type>-<index>``
    (two workers writing one file on a shared disk would clash).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes.recipes.training.trainer import worker_run_dir
    >>> worker_run_dir("runs/x", tf.distribute.get_strategy())
    'runs/x'
    """
    if getattr(strategy.extended, "should_checkpoint", True):  # the chief, or a single worker
        return run_dir
    resolver = strategy.cluster_resolver
    return os.path.join(run_dir, "workers", f"{resolver.task_type}-{resolver.task_id}")


def _in_scope(model, strategy, train_data):
    """``model`` when its variables live in ``strategy`` already, else a ``RecipeModel`` built and compiled
    again in its scope with ``model``'s weights; a ValueError for another kind of model, or a first
    global batch of ``train_data`` that the replicas cannot split evenly."""
    if not isinstance(strategy, tf.distribute.Strategy):
        raise ValueError(
            "`strategy` must be a tf.distribute.Strategy (MirroredStrategy, MultiWorkerMirroredStrategy, ...) or None. "
            f"Received: strategy={strategy!r:.100}"
        )
    replicas = strategy.num_replicas_in_sync
    if isinstance(train_data, tf.data.Dataset):
        first = next(iter(train_data.take(1)))
        batch = int(tf.shape(tf.nest.flatten(first)[0])[0])
        if batch % replicas:
            raise ValueError(
                f"The global batch must split evenly across the strategy's {replicas} replicas. "
                f"Received: a first batch of {batch} examples"
            )
    if model.distribute_strategy is strategy:
        return model
    from seqrecipes.recipes.recipe_model import RecipeModel  # here: that module imports the registry

    if not isinstance(model, RecipeModel):
        raise ValueError(
            "A model built outside the strategy must be a recipe's (its recipe builds it again in the scope); build "
            f"and compile other models inside `with strategy.scope():`. Received: model={type(model).__name__}"
        )
    with strategy.scope():
        replica = RecipeModel.from_config(model.get_config())
    replica.set_weights(model.get_weights())
    return replica


def _restore_last_good(model, backup_dir, guard):
    weights = os.path.join(backup_dir, "latest.weights.h5")
    if os.path.exists(weights):
        model.load_weights(weights)
        message = (
            f"Training stopped at {guard.reason}; the weights of the last good epoch ({backup_dir}) are restored. "
            "Call train again with the same run_dir (and perhaps a smaller learning rate) to resume from there."
        )
    else:
        guard.restore_initial_state()
        message = (
            f"Training stopped at {guard.reason}, in its first epoch; the weights it started from are restored "
            "(no epoch finished, so no checkpoint was written). Try a smaller learning rate."
        )
    logger.warning(message)
    warnings.warn(message)
