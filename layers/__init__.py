"""seqrecipes.layers: custom Keras layers, written with keras.ops only.

The groups:
- recurrent cells (one time step: ``SimpleRNNCell``, ``GRUCell``, ``LSTMCell`` and its peephole,
  layer-normalised and CIFG variants, over the base ``RecurrentCell``) and the sequence layers
  that run them over time (``RNN`` for any cell; ``SimpleRNN``, ``GRU``, ``LSTM`` with Keras's
  arguments);
- attention for recurrent decoders (``BahdanauAttention``, ``LuongAttention``), the decoder steps
  that use it (``BahdanauDecoderCell``: Bahdanau's wiring, attention with the previous state and the
  context into the recurrence; ``AttentionDecoderCell``: Luong's, attention after the step and input
  feeding), the sequence layer over either (``AttentionDecoder``) and their output unit ``Maxout``;
- the Transformer: ``MultiHeadAttention``, position tables (``PositionalEncoding``,
  ``PositionEmbedding``), the tied token table ``ReversibleEmbedding`` and the blocks (``TransformerEncoder``, ``TransformerDecoder``);
- pooling over time, a sentence vector from a padded sequence (``LastStatePooling``,
  ``MeanPooling``, ``MaxPooling``, ``AttentionPooling``);
- pretrained representations (ELMo): ``ReverseSequence`` (a backward RNN's view of a padded batch) and
  ``ScalarMix`` (a learned mix of a language model's layers);
- n-grams: ``NGramEmbedding`` (hashed n-gram features of token ids, fastText) and ``NGramTable``, a
  back-off n-gram model (the ARPA rule) over sorted key tables;
- sequence labelling: ``CRF``, a linear-chain conditional random field over a tagger's per-step scores.

Modules whose names start with an underscore are private: shared bases and helpers.
"""

# Recurrent cells and sequence layers
from seqrecipes.layers.recurrent_cell import RecurrentCell
from seqrecipes.layers.simple_rnn_cell import SimpleRNNCell
from seqrecipes.layers.gru_cell import GRUCell
from seqrecipes.layers.lstm_cell import LSTMCell
from seqrecipes.layers.peephole_lstm_cell import PeepholeLSTMCell
from seqrecipes.layers.layer_norm_lstm_cell import LayerNormLSTMCell
from seqrecipes.layers.cifg_lstm_cell import CIFGLSTMCell
from seqrecipes.layers.rnn import RNN
from seqrecipes.layers.simple_rnn import SimpleRNN
from seqrecipes.layers.gru import GRU
from seqrecipes.layers.lstm import LSTM

# Attention for recurrent decoders
from seqrecipes.layers.bahdanau_attention import BahdanauAttention
from seqrecipes.layers.luong_attention import LuongAttention
from seqrecipes.layers.attention_decoder_cell import AttentionDecoderCell
from seqrecipes.layers.bahdanau_decoder_cell import BahdanauDecoderCell
from seqrecipes.layers.attention_decoder import AttentionDecoder
from seqrecipes.layers.maxout import Maxout

# Transformer
from seqrecipes.layers.multi_head_attention import MultiHeadAttention
from seqrecipes.layers.positional_encoding import PositionalEncoding
from seqrecipes.layers.position_embedding import PositionEmbedding
from seqrecipes.layers.reversible_embedding import ReversibleEmbedding
from seqrecipes.layers.reverse_sequence import ReverseSequence
from seqrecipes.layers.scalar_mix import ScalarMix
from seqrecipes.layers.transformer_encoder import TransformerEncoder
from seqrecipes.layers.transformer_decoder import TransformerDecoder

# Pooling over time
from seqrecipes.layers.last_state_pooling import LastStatePooling
from seqrecipes.layers.mean_pooling import MeanPooling
from seqrecipes.layers.max_pooling import MaxPooling
from seqrecipes.layers.attention_pooling import AttentionPooling

# N-grams
from seqrecipes.layers.ngram_embedding import NGramEmbedding
from seqrecipes.layers.ngram_table import NGramTable

# Sequence labelling
from seqrecipes.layers.crf import CRF

__all__ = [
    "RecurrentCell",
    "SimpleRNNCell",
    "GRUCell",
    "LSTMCell",
    "PeepholeLSTMCell",
    "LayerNormLSTMCell",
    "CIFGLSTMCell",
    "RNN",
    "SimpleRNN",
    "GRU",
    "LSTM",
    "BahdanauAttention",
    "LuongAttention",
    "AttentionDecoderCell",
    "BahdanauDecoderCell",
    "AttentionDecoder",
    "Maxout",
    "MultiHeadAttention",
    "PositionalEncoding",
    "PositionEmbedding",
    "ReversibleEmbedding",
    "ReverseSequence",
    "ScalarMix",
    "TransformerEncoder",
    "TransformerDecoder",
    "LastStatePooling",
    "MeanPooling",
    "MaxPooling",
    "AttentionPooling",
    "NGramEmbedding",
    "NGramTable",
    "CRF",
]
