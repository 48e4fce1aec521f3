"""PositionEmbedding: its rows, its length limit, bad arguments and the harness."""

import numpy as np
import pytest
from layer_harness import run_layer_test
from transformer_references import X

from seqrecipes import layers


def test_position_embedding_rows_limit_and_harness():
    embedding = layers.PositionEmbedding(sequence_length=6)
    out = embedding(X, start_index=1)
    table = np.asarray(embedding.embeddings)
    np.testing.assert_allclose(out, np.broadcast_to(table[1:6], X.shape), atol=0)
    with pytest.raises(ValueError, match="sequence_length=6.*Received: inputs.shape=\\(2, 5, 8\\), start_index=2"):
        embedding(X, start_index=2)
    with pytest.raises(ValueError, match="Received: sequence_length=0"):
        layers.PositionEmbedding(sequence_length=0)
    with pytest.raises(ValueError, match="Received: inputs.shape=\\(2, 8\\)"):
        layers.PositionEmbedding(sequence_length=6)(X[:, 0])
    run_layer_test(
        layers.PositionEmbedding,
        {"sequence_length": 7},
        X,
        expected_output_shape=(2, 5, 8),
        expected_num_trainable_weights=1,  # E
    )


# --------------------------------------------------------------------------- NumPy blocks
