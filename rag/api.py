"""The page's `/ask` endpoint and MCP tool: one function over an Assistant that refuses malformed input."""

# No `from __future__ import annotations`: Gradio reads these type hints to describe the endpoint and tool.
import logging
from collections.abc import Callable
from typing import Any

from rag.errors import RagError

log = logging.getLogger("rag.ui")

GENERIC_ERROR = "Something went wrong while answering. Please try again in a moment."


def brief(value: Any, limit: int = 120) -> str:
    """A short repr of a client's value for a log line: never megabytes."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def as_sentence(message: str) -> str:
    """An error message as a sentence: capital first letter."""
    return message[:1].upper() + message[1:]


def make_ask(assistant: "Any") -> Callable[..., dict[str, Any]]:
    """The `/ask` endpoint and MCP tool for one shared assistant.

    Args:
        assistant: the rag.assistant.Assistant answering every call.

    Returns:
        A typed function for gr.api: it answers, or raises gr.Error with the reason.
    """

    def ask_soundtrack(question: str, k: int = 3, languages: list[str] | None = None,
                       history: list[str] | None = None) -> dict[str, Any]:
        """Answer a question about the K-drama "Soundtrack #1" (Disney+, 2022) with cited passages.

        The passages come from an English review and a German article, the best of each language first.

        Args:
            question: the question, in English or German (at most 2,000 characters).
            k: passages per language, a whole number from 1 to 50.
            languages: the language codes of the passages to return, "en" and/or "de"; default both.
            history: the earlier questions of the conversation, oldest first (at most 20).

        Returns:
            question, text (a short answer with [n] citation markers), lang (the question's language)
            and passages, each with text, lang, source (file name), start and end (character offsets),
            line_start, line_end, score and highlight (the sentence that answers best).
        """
        import gradio as gr

        try:
            return assistant.ask(question, k=k, languages=languages, history=history).to_dict()
        except RagError as exc:
            raise gr.Error(as_sentence(str(exc)), print_exception=False) from None
        except Exception:
            log.exception("API question %s failed", brief(question))
            raise gr.Error(GENERIC_ERROR, print_exception=False) from None

    return ask_soundtrack
