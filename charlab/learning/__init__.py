"""Training a network on a text: the training itself (training, fitting), the verdict when it ends
(diagnosis), the recipes (presets), sized to this computer by measurement (calibration), and the shipped
writers a training can start from (writers). Builds on charlab.text, charlab.network and charlab.saving.
"""
