"""Search: the question's side of retrieval (the learned adapter and its training); scorers move here in time."""
