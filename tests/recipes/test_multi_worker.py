"""``recipes.train(..., strategy=MultiWorkerMirroredStrategy())`` with two worker processes on 127.0.0.1 ports:
the workers train a recipe to the losses of one process with the same global batches, and after one worker is
killed in the middle of an epoch the restarted job resumes from the last backup and ends as the whole run would."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

WORKER = textwrap.dedent("""
    import json, os, sys
    import numpy as np, tensorflow as tf
    import keras
    from seqrecipes import data, recipes

    run_dir, epochs = sys.argv[1], int(sys.argv[2])
    strategy = tf.distribute.MultiWorkerMirroredStrategy() if "TF_CONFIG" in os.environ else None
    tokenizer = data.CharTokenizer(vocabulary=list("abcdef"))
    rng = np.random.default_rng(0)
    # One length for every example, so the mean token loss of each worker's half is the whole batch's mean.
    texts = ["".join(rng.choice(list("abcdef"), 5)) for _ in range(32)]
    pairs = tf.data.Dataset.from_tensor_slices((texts, [t[::-1] for t in texts]))
    batches = pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, 8)).cache()
    keras.utils.set_random_seed(0)
    model = recipes.seq2seq_attention(units=8, embedding_dim=4, max_target_length=8, source_tokenizer=tokenizer,
                                      target_tokenizer=tokenizer)

    class Report(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            print(f"EPOCH {epoch} {logs['loss']!r}", flush=True)

        def on_train_batch_end(self, batch, logs=None):
            if os.environ.get("KILL_AT") == f"{self.epoch},{batch}":
                print("KILLED", flush=True)
                os._exit(3)

    history = recipes.train(model, batches, run_dir=run_dir, epochs=epochs, verbose=0, tensorboard=False,
                            strategy=strategy, callbacks=[Report()])
    print("LOSSES " + json.dumps(history.history["loss"]), flush=True)
""")
EPOCHS = 3


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start(script, run_dir, index=None, ports=(), kill_at=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_CONFIG", None)
    env.pop("KILL_AT", None)
    if index is not None:
        cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
        env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
    if kill_at is not None:
        env["KILL_AT"] = kill_at
    command = [sys.executable, script, str(run_dir), str(EPOCHS)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finished(process, timeout=300):
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return process.returncode, stdout, stderr


def _losses(stdout):
    (line,) = [line for line in stdout.splitlines() if line.startswith("LOSSES ")]
    return json.loads(line[len("LOSSES ") :])


def _epochs(stdout):
    return {int(line.split()[1]): float(line.split()[2]) for line in stdout.splitlines() if line.startswith("EPOCH ")}


def _backed_up_epoch(folder):
    with open(os.path.join(folder, "backup", "training_metadata.json")) as f:
        return json.load(f)["epoch"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One process; a two-worker job whose worker 1 dies in epoch 2 (worker 0, blocked on it, is killed
    then, as a scheduler would); the same two-worker job started again in the same run folder."""
    folder = tmp_path_factory.mktemp("multi_worker")
    script = folder / "worker.py"
    script.write_text(WORKER)
    run_dir = folder / "job"
    ports = _free_ports(2)
    one = _start(script, folder / "one")
    chief = _start(script, run_dir, 0, ports)
    dying = _start(script, run_dir, 1, ports, kill_at="1,1")
    killed = _finished(dying)
    if chief.poll() is None:
        chief.kill()
    interrupted = _finished(chief)
    backups = {"chief": _backed_up_epoch(run_dir), "worker 1": _backed_up_epoch(run_dir / "workers" / "worker-1")}
    ports = _free_ports(2)
    restarted = [_start(script, run_dir, i, ports) for i in range(2)]
    return {
        "one": _finished(one),
        "killed": killed,
        "interrupted": interrupted,
        "backups": backups,
        "restarted": [_finished(p) for p in restarted],
        "run_dir": run_dir,
    }


def test_two_workers_train_to_the_losses_of_one_process(runs):
    rc, stdout, stderr = runs["one"]
    assert rc == 0, stderr[-3000:]
    one = _losses(stdout)
    rc, stdout, stderr = runs["killed"]
    assert rc == 3 and "KILLED" in stdout, stderr[-3000:]
    first_epoch = _epochs(runs["interrupted"][1])
    assert set(first_epoch) == {0}  # the chief finished epoch 1 and was blocked in epoch 2
    assert first_epoch[0] == pytest.approx(one[0], abs=1e-5)
    for rc, stdout, stderr in runs["restarted"]:
        assert rc == 0, stderr[-3000:]
        assert _losses(stdout) == pytest.approx(one[1:], abs=1e-5)
    assert one[-1] < one[0]  # it trained


def test_a_killed_worker_resumes_from_the_last_backup(runs):
    assert runs["backups"] == {"chief": 1, "worker 1": 1}  # both backed up epoch 1, not the half of epoch 2
    for rc, stdout, stderr in runs["restarted"]:
        assert rc == 0, stderr[-3000:]
        assert sorted(_epochs(stdout)) == [1, 2]  # epochs 2 and 3 only: epoch 1 came from the backup
    run_dir = runs["run_dir"]
    # The chief writes the model to the run folder, the other worker to its own; a finished run drops the backups.
    assert (run_dir / "checkpoints" / "last.keras").exists()
    assert (run_dir / "workers" / "worker-1" / "checkpoints" / "last.keras").exists()
    assert not (run_dir / "backup").exists()
