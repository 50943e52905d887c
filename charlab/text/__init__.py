"""The text a network learns from: reading and cleaning it (corpus), its characters (vocab), the windows a
network trains on (data), the ready-made texts (samples, reber) and how well guessing from the text alone
does (baselines: the chart's reference lines). Depends on nothing else in charlab but errors and environment.
"""
