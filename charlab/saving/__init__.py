"""A run on disk and beyond: its folder and files (runs), the versions of that format (run_format), its
weights as plain checked arrays (weights: the only form in which a model crosses a trust boundary), a run
as a zip (archives) or as one web page that writes offline (webpage). Builds on charlab.text and
charlab.network.
"""
