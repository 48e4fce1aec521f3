"""seqrecipes.layers: custom Keras layers, written with keras.ops only."""

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

# Attention and Transformer
from seqrecipes.layers.bahdanau_attention import BahdanauAttention
from seqrecipes.layers.luong_attention import LuongAttention
from seqrecipes.layers.multi_head_attention import MultiHeadAttention
from seqrecipes.layers.positional_encoding import PositionalEncoding
from seqrecipes.layers.position_embedding import PositionEmbedding
from seqrecipes.layers.transformer_encoder import TransformerEncoder
from seqrecipes.layers.transformer_decoder import TransformerDecoder
from seqrecipes.layers.last_state import LastState
from seqrecipes.layers.masked_mean import MaskedMean
from seqrecipes.layers.masked_max import MaskedMax
from seqrecipes.layers.attention_pooling import AttentionPooling
from seqrecipes.layers.attention_decoder_cell import AttentionDecoderCell
from seqrecipes.layers.attention_decoder import AttentionDecoder
