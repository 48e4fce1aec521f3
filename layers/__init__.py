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
