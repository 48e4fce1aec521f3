"""seqrecipes.data: tokenizers and vocabularies, tf.data transforms and dataset sources."""
