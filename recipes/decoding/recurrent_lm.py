"""``RecurrentLanguageModelDecoder``: generation from a stack of recurrent layers named ``rnn_k`` over an
``embedding``, with a ``logits`` layer: ``rnn_language_model``'s decoder and the forward LM of
``bidirectional_language_model``."""

from keras import ops

from seqrecipes.data import PAD_ID
from seqrecipes.recipes._components import embed
from seqrecipes.recipes.decoding.decoder import Decoder, ban_never_generated
from seqrecipes.recipes.decoding.prompts import prompt_ids


class RecurrentLanguageModelDecoder(Decoder):
    """Reads the prompt in ``encode`` (the layers ``rnn_k`` over all but its last real id), then one cell
    step per token; the model's arguments give ``num_layers`` and ``max_output_length``.

    See ``RNNLanguageModelDecoder`` for the inputs and the state.
    """

    def __init__(self, model):
        super().__init__(model, max_length=model.arguments["max_output_length"])
        self.embedding = model.get_layer("embedding")
        self.rnns = [model.get_layer(f"rnn_{k}") for k in range(model.arguments["num_layers"])]
        self.output_layer = model.get_layer("logits")

    def encode(self, inputs):
        ids = ops.cast(inputs, "int32")  # (B, L)
        lengths = ops.sum(ops.cast(ops.not_equal(ids, PAD_ID), "int32"), axis=1)  # (B,)
        last = ops.maximum(lengths - 1, 0)  # the index of each row's last real id
        last_token = ops.take_along_axis(ids, last[:, None], axis=1)[:, 0]  # (B,)
        mask = ops.arange(ops.shape(ids)[1], dtype="int32")[None, :] < last[:, None]  # (B, L)
        x = self.embedding(ids)  # (B, L, E)
        batch = ops.shape(ids)[0]
        states = []
        for rnn in self.rnns:
            # The layer's loop without its stored (stateful) states: (last output, outputs, states).
            _, x, layer_states = rnn.inner_loop(x, rnn.cell.get_initial_state(batch_size=batch), mask, training=False)
            states.append(list(layer_states))
        return {"last_token": last_token, "states": states}

    def step(self, token_ids, state, index):
        token = ops.where(index == 0, state["last_token"], ops.cast(token_ids, "int32"))  # (B,)
        x = embed(self.embedding, token)  # (B, E)
        states = []
        for rnn, layer_states in zip(self.rnns, state["states"]):
            x, new_states = rnn.cell(x, layer_states, training=False)  # (B, H)
            states.append(list(new_states) if isinstance(new_states, (list, tuple)) else [new_states])
        logits = ban_never_generated(self.output_layer(x))  # (B, V)
        return logits, {"last_token": state["last_token"], "states": states}

    output_role = "text"

    def inputs_from_raw(self, raw):
        return prompt_ids(self.model.tokenizer("text"), raw)
