"""README's examples, run as a reader would run them, so they stay true.

Its Python blocks, its `rag …` command lines and its `/ask` client call run against a small index of a copy
of the corpus in tmp_path, built with the hashing embedder (no model, no network; settings as in
tests/conftest.py's hashing_settings). Not run here: `rag bench` (minutes with the real model and the
LangChain baselines; tests/test_bench.py covers it) and `python app.py` (it serves until stopped; the `/ask`
block runs against the same page served in-process, and tests/test_app.py covers app.py). The set-up
commands are checked as text: CI (.ci/run) runs README's test command exactly as written.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

import rag.assistant
from rag.cli import build_parser, main
from rag.config import PROJECT_DIR
from tests.conftest import CORPUS, serving
from tests.documents import write_documents
from tests.test_security import load_app

README = PROJECT_DIR / "README.md"
DOCS = PROJECT_DIR / "docs"
TEST_COMMAND = 'python -m pip install -e ".[ui,test,bench]" && python -m pytest'
NOT_RUN = {"bench"}  # `rag bench`: see the module docstring
PAGE_URL = "http://127.0.0.1:7860/"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def blocks(language: str, text: str | None = None) -> list[str]:
    """The bodies of the fenced code blocks of one language in README (or in text)."""
    text = README.read_text(encoding="utf-8") if text is None else text
    return [body for lang, body in FENCE.findall(text) if lang == language]


def cli_examples() -> list[list[str]]:
    """README's `rag …` command lines, split as a shell would (comments dropped)."""
    lines = [line.strip() for body in blocks("bash") for line in body.splitlines()]
    return [shlex.split(line, comments=True) for line in lines if line.startswith("rag ")]


def python_examples(client: bool) -> list[str]:
    """README's Python blocks: those that call the page's `/ask` endpoint (client=True), or the others."""
    return [body for body in blocks("python") if ("gradio_client" in body) == client]


@pytest.fixture
def readme_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default corpus and index are a corpus copy and an index folder in tmp_path, with the hashing model."""
    shutil.copytree(CORPUS, tmp_path / "corpus")
    monkeypatch.setenv("RAG_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_MODEL", "hashing")
    # The hashing embedder is lexical: its scores run lower than a real model's (as in hashing_settings).
    for key, value in (("MIN_SCORE", "0.08"), ("MIN_QUESTION_SCORE", "0.1"), ("LANGUAGE_MARGIN", "1.0")):
        monkeypatch.setenv(f"RAG_{key}", value)
    monkeypatch.setattr(rag.assistant, "_default", None)  # ask()'s shared assistant: made afresh from these
    monkeypatch.chdir(tmp_path)  # whatever an example writes relative to the current folder stays here
    write_documents(tmp_path)  # the documents the examples add (notes.pdf, crew.docx), in the current folder
    return tmp_path


def fast_learning(monkeypatch: pytest.MonkeyPatch) -> None:
    """`rag learn` with 5 training steps instead of 300: the same code path in seconds, not a minute."""
    from rag.search import learn, teach

    monkeypatch.setattr(teach, "train", functools.partial(learn.train, steps=5))
    monkeypatch.setattr(teach, "cross_validate", functools.partial(learn.cross_validate, steps=5))


def test_python_examples_run(readme_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    examples = python_examples(client=False)
    assert examples, "README shows no Python example"
    for code in examples:
        exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    # ask() built the default index on first use, as README says, and printed an answer with passages.
    assert (readme_env / "index" / "manifest.json").is_file()
    out = capsys.readouterr().out
    assert "soundtrack1_review_en.txt" in out and "soundtrack1_article_de.txt" in out, out
    assert (readme_env / "corpus" / "notes.pdf").is_file()  # add_documents copied it into the corpus


@pytest.mark.slow  # every README command, rag eval among them: about 4 s; CI runs it with the slow tests
def test_cli_examples_run(readme_env: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    fast_learning(monkeypatch)
    examples = [args for args in cli_examples() if args[1] not in NOT_RUN]
    assert examples and examples[0][:2] == ["rag", "index"], "README's first command must build the index"
    assert {args[1] for args in examples} >= {"index", "ask", "eval", "learn"}
    for args in examples:
        code = main(args[1:])
        out, err = capsys.readouterr()
        assert code == 0, f"`{shlex.join(args)}` exited with {code}: {err}"
        assert out.strip(), f"`{shlex.join(args)}` printed nothing"
        if "--json" in args:
            json.loads(out)


@pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")  # a pandas deprecation inside gradio
def test_ask_endpoint_example_runs(readme_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("gradio")
    pytest.importorskip("gradio_client")
    examples = python_examples(client=True)
    assert examples and all(PAGE_URL in code for code in examples), "README's /ask example names the page's URL"
    assert main(["index"]) == 0
    with serving(rag.assistant.Assistant.load()) as url:
        for code in examples:
            exec(compile(code.replace(PAGE_URL, url), str(README), "exec"), {"__name__": "readme_example"})
    assert "[1]" in capsys.readouterr().out  # the short answer, with its citation markers


def test_every_flag_readme_names_exists(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    known = {flag for sub in subparsers.choices.values() for a in sub._actions for flag in a.option_strings}
    with pytest.raises(SystemExit):
        load_app().parse_args(["--help"])
    known |= set(re.findall(r"--[a-z][a-z-]*", capsys.readouterr().out))
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", README.read_text(encoding="utf-8")))
    assert named and named <= known, f"README names options no command has: {sorted(named - known)}"


def test_readme_is_a_quick_start_that_links_every_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text) <= 15_000, f"README has {len(text)} characters: move depth into docs/"
    ci = (PROJECT_DIR / ".ci" / "run").read_text(encoding="utf-8").replace("pip install -q ", "pip install ")
    assert TEST_COMMAND in text and TEST_COMMAND in ci  # CI runs README's test command (pip's -q aside)
    assert 'python -m pip install -e ".[ui]" && python app.py' in text and 'python -m pytest -m "not slow"' in text
    assert "](docs/screenshot.png)" in text and (DOCS / "screenshot.png").is_file()
    pages = sorted(DOCS.glob("*.md"))
    assert pages and all(f"](docs/{page.name}" in text for page in pages)
    for page in pages:  # each page leads back to README and on to every other page
        body = page.read_text(encoding="utf-8")
        assert body.startswith("# ") and "](../README.md" in body, page.name
        assert all(f"]({other.name}" in body for other in pages if other != page), page.name


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_relative_links_and_anchors_resolve() -> None:
    for page in [README, *sorted(DOCS.glob("*.md"))]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a web address: not followed (no network in tests)
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.is_file(), f"{page.name}: link to missing {target}"
            if anchor:
                headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.MULTILINE)
                assert anchor in {slug(h) for h in headings}, f"{page.name}: no heading for {target}"
