"""Keras (TensorFlow backend), imported on first use with thread pools sized for a small CPU.

Its own module, below every one that builds a layer (charlab.network.cells and .model, charlab.learning.fitting),
so none of them imports another only to reach TensorFlow.
"""

from __future__ import annotations

import os
import threading

from charlab import environment

_keras_lock = threading.Lock()
_keras_ready = False


def import_keras():
    """Import Keras (TensorFlow backend) on first use, with thread pools sized for a small CPU.

    TensorFlow costs ~2 s and ~500 MB to import, so only building, training or loading a
    `.keras` file pays for it. One intra-op thread per op and two ops at a time was measured
    fastest for these small recurrent models on 2 cores; CHARLAB_INTRA_THREADS and
    CHARLAB_INTER_THREADS override it.
    """
    global _keras_ready
    with _keras_lock:
        if not _keras_ready:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            os.environ.setdefault("KERAS_BACKEND", "tensorflow")
            import tensorflow as tf

            try:
                intra, inter = environment.tensorflow_threads()
                tf.config.threading.set_intra_op_parallelism_threads(intra)
                tf.config.threading.set_inter_op_parallelism_threads(inter)
            except RuntimeError:
                pass  # TensorFlow already ran an op in this process; keep its pools
            _keras_ready = True
    import keras

    return keras
