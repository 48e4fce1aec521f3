"""seqrecipes.layers: custom Keras layers, written with keras.ops only."""
