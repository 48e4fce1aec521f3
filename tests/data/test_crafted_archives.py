"""Crafted ``.keras`` files: a tokenizer config that names a file must never make loading read it.

A recipe's ``.keras`` file carries its tokenizers' vocabularies inside the archive (the config's
token list, a SentencePiece model as base64). A crafted archive may put a path there instead: an
absolute path to a file in vocabulary format outside the archive, a ``../`` path to it,
``/proc/self/environ``, a symlink to it, or a SentencePiece ``proto`` that is a path. Each must be
refused by ``keras.saving.load_model(path, safe_mode=True)`` with an error naming the argument and
quoting nothing of the file, and the file must never be opened or stat-ed.

All archives are built, crafted, loaded (and exported, should one load) in one child process under
a memory limit and a timeout (``run_limited``). The child watches for the outside files three ways:
an audit hook on Python's ``open`` events, wrappers around ``os.stat``/``os.lstat``/``os.readlink``
(``os.path.isfile`` and ``os.path.realpath`` go through them), and the files' access times (C++
readers such as TensorFlow's ``TextFileInitializer`` bypass Python; the child also reports, from a
control file, whether reading updates access times on this file system: with ``noatime`` that
third watch sees nothing and the first two remain). It reports, per archive:
refused or not, the message, whether a marker token of the secret files or a value of the
environment appears in the message or in any exported file, and every access it saw.
"""

import functools

import pytest

from bad_input import answers, expect_clear, params, run_limited

ARCHIVES = ("absolute_path", "relative_path", "proc_self_environ", "symlink", "sentence_piece_proto_path", "sentence_piece_proto_environ")

CHILD = r'''
import io, json, os, shutil, sys, tempfile, uuid, zipfile

# /proc/self/environ shows the environment the process started with: re-start once with a canary in it.
if "SEQRECIPES_CANARY" not in os.environ:
    os.execve(sys.executable, sys.orig_argv, dict(os.environ, SEQRECIPES_CANARY="canary-" + uuid.uuid4().hex))

import keras
import sentencepiece
from seqrecipes import data, recipes

root = tempfile.mkdtemp(prefix="crafted_")
work = os.path.join(root, "work")
os.makedirs(work)
os.chdir(work)
MARKERS = ["SECRETMARKERalpha", "SECRETMARKERbeta"]
secret = os.path.join(root, "SECRET_vocab.txt")
with open(secret, "w", encoding="utf-8") as f:
    f.write("[PAD]\n[UNK]\n[START]\n[END]\n" + "\n".join(MARKERS) + "\n")  # the size the recipe expects
link = os.path.join(root, "SECRET_link.txt")
os.symlink(secret, link)

# A valid SentencePiece model outside any archive, with a marker piece.
model = io.BytesIO()
text = ["the cat sat on the mat", "a dog sat on a log", "SECRETMARKERalpha"] * 20
sentencepiece.SentencePieceTrainer.train(
    sentence_iterator=iter(text), model_writer=model, vocab_size=30, hard_vocab_limit=False,
    user_defined_symbols=["SECRETMARKERalpha"], pad_id=0, unk_id=1, bos_id=2, eos_id=3,
    pad_piece="[PAD]", unk_piece="[UNK]", bos_piece="[START]", eos_piece="[END]", minloglevel=2,
)
secret_model = os.path.join(root, "SECRET_model.model")
with open(secret_model, "wb") as f:
    f.write(model.getvalue())

def base_archive(name, tokenizer):
    m = recipes.text_classifier(max_length=4, units=4, embedding_dim=4, label_names=["no", "yes"], text_tokenizer=tokenizer)
    path = os.path.join(root, name + ".keras")
    m.save(path)
    return path

word = base_archive("word", data.WordTokenizer(vocabulary=["good", "bad"]))
piece = base_archive("piece", data.SentencePieceTokenizer(max_size=30).adapt(text[:2] * 20))

def crafted(base, name, key, value):
    path = os.path.join(root, name + ".keras")
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(content)
                config["config"]["tokenizers"]["text"]["config"][key] = value
                content = json.dumps(config).encode("utf-8")
            target.writestr(item, content)
    return path

archives = {
    "absolute_path": crafted(word, "absolute_path", "vocabulary", secret),
    "relative_path": crafted(word, "relative_path", "vocabulary", os.path.join("..", "SECRET_vocab.txt")),
    "proc_self_environ": crafted(word, "proc_self_environ", "vocabulary", "/proc/self/environ"),
    "symlink": crafted(word, "symlink", "vocabulary", link),
    "sentence_piece_proto_path": crafted(piece, "sentence_piece_proto_path", "proto", secret_model),
    "sentence_piece_proto_environ": crafted(piece, "sentence_piece_proto_environ", "proto", "/proc/self/environ"),
}

real_stat = os.stat

def set_old_atime(path):
    mtime = real_stat(path).st_mtime
    os.utime(path, (mtime - 1000, mtime))
    return real_stat(path).st_atime

# Does reading update the access time here? (relatime does, once atime <= mtime; noatime never.)
control = os.path.join(root, "CONTROL.txt")
with open(control, "w") as f:
    f.write("x\n")
before = set_old_atime(control)
with open(control) as f:
    f.read()
atime_works = os.stat(control).st_atime != before
watched_files = [secret, secret_model]

ENV_VALUES = [os.environ["SEQRECIPES_CANARY"]] + [v for k, v in os.environ.items() if k == "PATH" and len(v) >= 8]
LEAKS = MARKERS + ENV_VALUES

def watched(path):
    try:
        path = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
    except Exception:
        return False
    return "SECRET" in path or path.endswith("/environ")

accesses = []
def hook(event, args):
    if event in ("open", "os.listdir", "os.scandir", "shutil.copyfile", "os.symlink") and args and watched(args[0]):
        accesses.append(f"{event} {os.fsdecode(args[0])}")
sys.addaudithook(hook)

def spy(function, name):
    def wrapper(path, *args, **kwargs):
        if watched(path):
            accesses.append(f"{name} {os.fsdecode(path)}")
        return function(path, *args, **kwargs)
    return wrapper
os.stat, os.lstat, os.readlink = spy(os.stat, "os.stat"), spy(os.lstat, "os.lstat"), spy(os.readlink, "os.readlink")

def files_under(folder):
    for directory, _, names in os.walk(folder):
        for n in names:
            yield os.path.join(directory, n)

report = {"atime_works": atime_works}
for name, path in archives.items():
    atimes = {p: set_old_atime(p) for p in watched_files}
    del accesses[:]
    entry = {"refused": False, "message": "", "exported": False, "leaked_in_export": False}
    try:
        loaded = keras.saving.load_model(path, safe_mode=True)
        entry["vocabulary_leaked"] = any(m in "".join(loaded.tokenizer("text").get_vocabulary()) for m in MARKERS)
        try:
            exported = recipes.export(loaded, os.path.join(root, "export_" + name))
            entry["exported"] = True
            blob = b"".join(open(p, "rb").read() for p in files_under(exported))
            entry["leaked_in_export"] = any(m.encode() in blob for m in LEAKS)
        except Exception as error:
            entry["export_error"] = f"{type(error).__name__}: {error}"[:500]
    except Exception as error:
        entry["refused"] = True
        entry["error_type"] = type(error).__name__
        entry["message"] = str(error)
    entry["leaked_in_message"] = any(m in entry["message"] or m in entry.get("export_error", "") for m in LEAKS)
    entry["accesses"] = sorted(set(accesses))
    entry["atime_changed"] = [p for p in watched_files if real_stat(p).st_atime != atimes[p]]
    entry["message"] = entry["message"][:500]
    report[name] = entry
shutil.rmtree(root, ignore_errors=True)
print(json.dumps(report))
'''


@functools.cache
def _report():
    """The child's report over every crafted archive (one child for all cases)."""
    return run_limited(CHILD, memory_gb=3.0, timeout_s=150.0)


NAMES = {"sentence_piece_proto_path": "proto", "sentence_piece_proto_environ": "proto"}


def _safe(name):
    """The check of one archive: refused naming the argument, nothing leaked, the outside files untouched."""

    def check(entry):
        argument = NAMES.get(name, "vocabulary")
        return (
            entry["refused"]
            and f"`{argument}`" in entry["message"]
            and not entry["leaked_in_message"]
            and not entry["exported"]
            and not entry["leaked_in_export"]
            and not entry["accesses"]
            and not entry["atime_changed"]
        )

    return check


CASES = [answers(f"crafted_archive_{name}", functools.partial(lambda n: _report()[n], name), _safe(name)) for name in ARCHIVES]


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input(case):
    expect_clear(case)

