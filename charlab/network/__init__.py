"""A character-level recurrent network: its settings and Keras model (model), its cells (cells), its numbers'
precision (precision), its learning-rate schedule (schedule), and writing with it one character at a time
in numpy (sampling, generation). TensorFlow is imported only where a model is built (keras_setup).
Builds on charlab.text.
"""
