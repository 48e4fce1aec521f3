"""data.SentencePieceTokenizer: round trips, model files and config."""

import pytest

from seqrecipes import data

from data_helpers import SEED_002, texts


def test_sentence_piece_tokenizer_round_trip_files_and_config(tmp_path):
    tokenizer = data.SentencePieceTokenizer(max_size=60).adapt(SEED_002 * 20)
    assert tokenizer.get_vocabulary()[:4] == ["[PAD]", "[UNK]", "[START]", "[END]"]
    text = ["그의 말이 뛰고 있다", "가는 말이 곱다"]
    ids = tokenizer.tokenize(text)
    assert texts(tokenizer.detokenize(ids)) == text
    assert min(ids.flat_values.numpy()) >= 4
    path = tokenizer.save_vocabulary(str(tmp_path / "sp.model"))
    from_file = data.SentencePieceTokenizer(proto=path)
    assert from_file.tokenize(text).to_list() == ids.to_list()
    clone = data.SentencePieceTokenizer.from_config(tokenizer.get_config())
    assert clone.tokenize(text).to_list() == ids.to_list()
    with pytest.raises(FileNotFoundError, match=r"Received: proto='no/such.model'"):
        data.SentencePieceTokenizer(proto="no/such.model")
