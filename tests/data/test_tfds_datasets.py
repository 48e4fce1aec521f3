"""data.tfds_datasets: TensorFlow Datasets by name, offline under tfds.testing.mock_data."""

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from seqrecipes import data

from data_helpers import items


TFDS_SPECS = {
    "tiny_shakespeare": tf.TensorSpec((), tf.string),
    "imdb_reviews": (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.int64)),
    "glue/sst2": (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.int64)),
    "ag_news_subset": (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.int64)),
    "ted_hrlr_translate/pt_to_en": (tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.string)),
    "conll2003": (tf.TensorSpec((None,), tf.string), tf.TensorSpec((None,), tf.int64)),
}


@pytest.mark.parametrize("name", sorted(TFDS_SPECS))
def test_load_tfds_maps_features_to_inputs_and_targets(name):
    with tfds.testing.mock_data(num_examples=3):
        ds, info = data.load_tfds(name, split="train", with_info=True)
    assert set(data.TFDS_DATASETS) == set(TFDS_SPECS)
    assert ds.element_spec == TFDS_SPECS[name]
    assert len(items(ds)) == 3
    assert info.name == name.split("/")[0]


def test_load_tfds_pipeline_and_unknown_name():
    with tfds.testing.mock_data(num_examples=4):
        ds = data.load_tfds("imdb_reviews:1.0.0", split="test")
    chars = data.CharTokenizer().adapt(ds.map(lambda text, label: text))
    batches = list(ds.apply(data.tokenize(chars)).apply(data.batch_with_padding(2)).as_numpy_iterator())
    assert len(batches) == 2 and batches[0][0].shape[0] == 2
    with tfds.testing.mock_data(num_examples=2):
        ag = next(iter(data.load_tfds("ag_news_subset")))[0]
    with pytest.raises(ValueError, match=r"known: ag_news_subset, conll2003, glue/sst2, imdb_reviews, ted_hrlr_translate/pt_to_en, tiny_shakespeare. Received: name='wmt14'"):
        data.load_tfds("wmt14")
    assert b" " in ag.numpy()  # title and description joined
