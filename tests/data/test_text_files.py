"""data.text_files: plain text, TSV/CSV and CoNLL files; missing, empty and malformed files."""

import pytest
import tensorflow as tf

from seqrecipes import data

from data_helpers import items


def test_text_lines_and_document(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes("경마장에 있는 말이 뛰고 있다\r\n\r\n   \r\n그의 말이 법이다\nbad \xff byte\n".encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    lines = items(data.text_lines(str(path)))
    assert lines[:2] == ["경마장에 있는 말이 뛰고 있다".encode(), "그의 말이 법이다".encode()]
    assert lines[2] == b"bad \xff byte"
    chars = data.CharTokenizer().adapt(data.text_lines(str(path)))
    assert chars.detokenize(chars.tokenize(lines[2])).numpy().decode() == "bad \ufffd byte"  # replaced, never raised
    assert len(items(data.text_lines(str(path), skip_empty=False))) == 5
    assert len(items(data.text_lines([str(path), str(path)]))) == 6
    document = items(data.text_document(str(path)))
    assert len(document) == 1 and document[0] == path.read_bytes()


@pytest.mark.parametrize("reader", [data.text_lines, data.text_document, lambda p: data.conll_file(p), lambda p: data.delimited_file(p, "a", "b", delimiter="\t")])
def test_missing_and_empty_files(tmp_path, reader):
    with pytest.raises(FileNotFoundError, match=r"Received: path='.*nothing.txt'"):
        reader(str(tmp_path / "nothing.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text(" \n\n")
    with pytest.raises(ValueError, match=r"data file is empty.*Received: path='.*empty.txt'"):
        reader(str(empty))


def test_delimited_files(tmp_path):
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text('id\tsource\ttarget\n1\tJune 25th, 2009\t2009-06-25\n\n2\t"2009년 6월 25일"\t2009-06-25\n', encoding="utf-8")
    pairs = [(a.decode(), b.decode()) for a, b in items(data.delimited_file(str(tsv), "source", "target"))]
    assert pairs == [("June 25th, 2009", "2009-06-25"), ('"2009년 6월 25일"', "2009-06-25")]
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text('text,label\n"good, really",1\nbad,0\n', encoding="utf-8")
    ds = data.delimited_file(str(csv_path), inputs="text", targets="label", targets_dtype="int64")
    assert ds.element_spec == (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.int64))
    assert items(ds) == [(b"good, really", 1), (b"bad", 0)]
    malformed = tmp_path / "bad.tsv"
    malformed.write_text("source\ttarget\na\tb\nc\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.tsv:3: expected 2 fields \(\['source', 'target'\]\), found 1. Received: line='c'"):
        data.delimited_file(str(malformed), "source", "target")
    with pytest.raises(ValueError, match=r"pairs.tsv:1: column\(s\) \['label'\] not in the header \['id', 'source', 'target'\]"):
        data.delimited_file(str(tsv), "source", "label")
    not_int = tmp_path / "labels2.csv"
    not_int.write_text("text,label\nok,1\nhmm,positive\n")
    with pytest.raises(ValueError, match=r"labels2.csv:3: the 'label' field is not int64. Received: label='positive'"):
        data.delimited_file(str(not_int), "text", "label", targets_dtype="int64")
    header_only = tmp_path / "header.csv"
    header_only.write_text("text,label\n")
    with pytest.raises(ValueError, match=r"no data rows"):
        data.delimited_file(str(header_only), "text", "label")
    with pytest.raises(ValueError, match=r"Cannot tell the delimiter"):
        data.delimited_file(str(_copy(tsv, tmp_path / "pairs.dat")), "source", "target")


def _copy(source, destination):
    destination.write_bytes(source.read_bytes())
    return destination


def test_conll_files(tmp_path):
    path = tmp_path / "train.conll"
    path.write_text(
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n",
        encoding="utf-8",
    )
    ds = data.conll_file(str(path))
    assert ds.element_spec == (tf.TensorSpec((None,), tf.string), tf.TensorSpec((None,), tf.string))
    sentences = [([t.decode() for t in x], [g.decode() for g in y]) for x, y in items(ds)]
    assert sentences == [(["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"]), (["Peter", "Blackburn"], ["B-PER", "I-PER"])]
    pos = [[g.decode() for g in y] for _, y in items(data.conll_file(str(path), tag_column=1))]
    assert pos == [["NNP", "VBZ", "JJ"], ["NNP", "NNP"]]
    # Tags to ids with a vocabulary, tokens with a word tokenizer's table.
    tags = data.Vocabulary.build(ds.map(lambda tokens, tags: tags))
    words = data.WordTokenizer(vocabulary=data.Vocabulary.build(ds.map(lambda tokens, tags: tokens)))
    tagger = data.WordTokenizer(vocabulary=tags, split_punctuation=False)
    ids = ds.map(lambda tokens, t: (words.tokens_to_ids(tokens), tagger.tokens_to_ids(t)))
    first = next(iter(ids))
    assert [words.id_to_token(int(i)) for i in first[0]] == ["EU", "rejects", "German"]
    assert [tags.id_to_token(int(i)) for i in first[1]] == ["B-ORG", "O", "B-MISC"]
    bad = tmp_path / "bad.conll"
    bad.write_text("EU NNP B-NP B-ORG\nrejects\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.conll:2: expected at least 2 columns .* found 1. Received: line='rejects'"):
        data.conll_file(str(bad))
    only_docstart = tmp_path / "docstart.conll"
    only_docstart.write_text("-DOCSTART- -X- -X- O\n\n")
    with pytest.raises(ValueError, match=r"no sentences"):
        data.conll_file(str(only_docstart))
