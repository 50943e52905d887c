"""Many people training on one machine: the queue (jobs), a training in its own process (workers, remote)
or on a Ray cluster (cluster), which of those runs it (backends), whose run is whose (owners), the
teacher's board (board) and forgetting a student's work (privacy). Builds on charlab.learning and below.
"""
