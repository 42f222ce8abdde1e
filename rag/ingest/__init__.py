"""Ingest: the corpus folder walked and read safely (tree); readers, cleaning and chunking move here in time."""
