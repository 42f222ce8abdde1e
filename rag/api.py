"""The page's `/ask` endpoint and MCP tool: one function over an Assistant that refuses malformed input."""

# No `from __future__ import annotations`: Gradio reads these type hints to describe the endpoint and tool.
import inspect
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


def wire(answer: dict[str, Any]) -> dict[str, Any]:
    """Answer.to_dict() ready for the wire: file names with raw bytes, controls or bidi overrides shown escaped.

    A file name that is not UTF-8 cannot travel as JSON text at all; one with U+202E could disguise itself.
    """
    from rag.terminal import printable

    for passage in answer["passages"]:
        passage["source"] = printable(passage["source"])
    return answer


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
            languages: the language codes of the passages to return (ISO 639-1, as the page's
                options list them); default: every language of the corpus.
            history: the earlier questions of the conversation, oldest first (at most 20).

        Returns:
            question, text (a short answer with [n] citation markers), lang (the question's language)
            and passages, each with text, lang, source (file name), start and end (character offsets),
            line_start, line_end, score, highlight (its sentence closest to the question, or "" when
            the passage scores well below its language's best) and place ("p. 12" in a PDF, "§ heading" in
            a Word or HTML file, "" in a text file), and confidence: per language a label
            ("answers"; "related": about the subject, may not answer; "none": the question is off-topic)
            and the calibrated probability that its top 3 passages hold the answer.
        """
        import gradio as gr

        try:
            return wire(assistant.ask(question, k=k, languages=languages, history=history).to_dict())
        except RagError as exc:
            raise gr.Error(as_sentence(str(exc)), print_exception=False) from None
        except Exception:
            log.exception("API question %s failed", brief(question))
            raise gr.Error(GENERIC_ERROR, print_exception=False) from None

    return ask_soundtrack


def fill_defaults(demo: Any, fn: Callable[..., Any]) -> None:
    """Let callers of demo's endpoint for fn leave out trailing optional fields, as its signature promises.

    Gradio refuses an input list shorter than the function's parameters before the function runs (with
    an empty error and a traceback in the log); here the missing optional values get their defaults, and
    a missing required one is named in the error.

    Args:
        demo: the gr.Blocks holding the endpoint.
        fn: the endpoint's function (as given to gr.api).
    """
    import gradio as gr

    params = list(inspect.signature(fn).parameters.values())
    check = demo.validate_inputs

    def validate_inputs(block_fn: Any, inputs: list[Any]) -> None:
        if block_fn.fn is fn and len(inputs) < len(params):
            absent = params[len(inputs):]
            required = [p.name for p in absent if p.default is inspect.Parameter.empty]
            if required:
                raise gr.Error(f"Missing field: {', '.join(required)} (send the data as [question, k, languages, "
                               "history]; only question is required)", print_exception=False)
            inputs.extend(p.default for p in absent)  # gradio reads this same list next
        check(block_fn, inputs)

    demo.validate_inputs = validate_inputs
