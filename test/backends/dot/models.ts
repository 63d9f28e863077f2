/** The models the diagram tests draw, as .dl text: the issue's four, an MLP, a perceptron and recurrent ones. */

export const ISSUE_MODELS = `
const classes = 10

block residual(channels, kernel = 3) {
  input x
  h = x -> conv2d(channels, kernel = kernel, padding = same) -> relu
        -> conv2d(channels, kernel = kernel, padding = same)
  output add(x, h) -> relu
}

model MnistConvNet {
  input image: [28, 28, 1]
  output probs = image
    -> conv2d(32, kernel = 3) -> relu
    -> maxpool(2)
    -> conv2d(64, kernel = 3) -> relu
    -> maxpool(2)
    -> flatten
    -> dropout(0.5)
    -> dense(classes) -> softmax
}

model TinyResNet {
  input image: [32, 32, 3]
  stem = image -> conv2d(16, kernel = 3, padding = same) as stem_conv -> relu
  output logits = stem -> repeat(3, residual(16)) -> global_avgpool -> dense(10)
}

model Sentiment {
  input tokens: [200] int
  output p = tokens -> embedding(vocab = 20000, dim = 128)
    -> bidirectional(lstm(64, sequences = true)) -> lstm(32) -> dense(1) -> sigmoid
}

model Seq2Class {
  input x: [50, 16]
  q = x -> positional(kind = sinusoidal)
  output y = attention(q, q, heads = 4, key_dim = 8, causal = true) -> layernorm -> global_maxpool -> dense(3) -> softmax
}
`;

export const DENSE_MODELS = `
model DeepMLP {
  input pixels: [784]
  output probs = pixels -> dense(128) -> relu -> dropout(0.2) -> dense(64) -> relu -> dense(10) -> softmax
}

model Perceptron {
  input x: [3]
  output y = x -> dense(1) as neuron -> sigmoid
}
`;

export const RECURRENT_MODELS = `
model CharRNN {
  input chars: [20, 27]
  output next_char = chars -> rnn(64, sequences = true) -> dense(27) as V -> softmax
}

model LastState {
  input x: [12, 8]
  output p = x -> lstm(32) -> dense(1) -> sigmoid
}

model BiTagger {
  input x: [30, 8]
  output tags = x -> bidirectional(rnn(16, sequences = true)) -> dense(4) -> softmax
}
`;

/** Names from users are identifiers, which may be any Unicode letters and underscores. */
export const UNICODE_NAMES = `
block bloc_é(n) {
  input x
  output x -> dense(n) as couche_Ω -> relu
}

model Modèle_Ψ_数 {
  input données_ü: [8]
  output sortie_λ = données_ü -> bloc_é(4) -> dense(2) as слой_1 -> softmax
}
`;
