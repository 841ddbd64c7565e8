"""Tokenworth: what your LLM tokens cost, per model and task, and whether the work was worth it."""

__version__ = "0.1.0"
