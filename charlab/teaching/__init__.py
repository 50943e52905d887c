"""Tools for lessons: did the network copy its text (copying), what its neurons follow (neurons), and
lesson links and files that open charlab set up for one exercise (lessons). Builds on charlab.learning
and below, never on charlab.server.
"""
