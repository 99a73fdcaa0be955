"""Stage 2a: ModelSpec → Stan program text."""

from .program import executable_text, generate

__all__ = ["executable_text", "generate"]
