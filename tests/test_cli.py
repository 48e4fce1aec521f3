"""The command line."""

import subprocess
import sys

import pytest

from seqrecipes.recipes import cli


def test_list_names_every_public_layer(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("LSTM", "GRUCell", "PeepholeLSTMCell", "LayerNormLSTMCell", "CIFGLSTMCell", "RNN"):
        assert f"  {name} " in out


def test_unknown_command_is_a_clear_error(capsys):
    with pytest.raises(SystemExit) as err:
        cli.main(["frobnicate"])
    assert err.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_console_script_is_installed():
    bindir = __import__("pathlib").Path(sys.executable).parent
    out = subprocess.run([str(bindir / "seqrecipes"), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("seqrecipes ")
