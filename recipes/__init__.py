"""seqrecipes.recipes: one function per task type, plus training, decoding, export and the CLI."""
