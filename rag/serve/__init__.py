"""Serve: the request checks, the assistant, the answer, the page and the API (moving here module by module)."""
