"""The seven failures of the latest attack, and its observations: each now one line and exit 2, or answered right.

1 a corpus file swapped for a symlink during a build; 2 a file name that is not UTF-8; 3 folders nested
deeper than Python's recursion limit; 4 an unreadable file named on every `rag index`; 5 `/ask` with
missing fields (tests/test_api.py); 6 and 7 `app.py --port` out of range or in use.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
from pathlib import Path

import pytest

import rag.corpus
import rag.files
import rag.store
from rag.answer import compose
from rag.assistant import Assistant
from rag.chunking import Chunk
from rag.cli import main
from rag.errors import ConfigError, IndexWriteError
from rag.index import build_index
from rag.ingest.tree import MAX_DEPTH, read_source, walk
from rag.retrieve import Hit
from tests.conftest import hashing_settings, load_app

TEXT = ("The series Soundtrack #1 was directed by Kim Hee-won. It has four episodes of about forty minutes. "
        "Han So-hee plays Eun-soo, a lyricist, and Park Hyung-sik plays Seon-woo, a photographer.\n")
SECRET = "Das Passwort lautet hunter2. Geheime Notizen über den Server und die Zugangsdaten der Firma.\n"


@pytest.fixture
def hashing_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MODEL", "hashing")
    for key, value in (("MIN_SCORE", "-1"), ("MIN_QUESTION_SCORE", "-1"), ("LANGUAGE_MARGIN", "9")):
        monkeypatch.setenv(f"RAG_{key}", value)  # answer everything: the tiny corpora below are all on topic


def corpus_with(tmp_path: Path, *names: str | bytes) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in names:
        path = os.path.join(os.fsencode(corpus), name if isinstance(name, bytes) else os.fsencode(name))
        with open(path, "wb") as handle:
            handle.write(TEXT.encode())
    return corpus


@pytest.fixture(autouse=True)
def _warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="rag")


def run(args: list[str], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture | None = None
        ) -> tuple[int, str, str]:
    """Run the CLI in-process: exit code, stdout, and stderr with the warnings logged meanwhile."""
    if caplog is not None:
        caplog.clear()
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err + ("" if caplog is None else caplog.text)


# --- 1: a symlink swapped in while the build runs ------------------------------------------------------


@pytest.mark.parametrize("swap", ["file", "folder"])
def test_a_file_swapped_for_a_link_mid_build_is_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str], hashing_env: None,
                                                           swap: str, caplog: pytest.LogCaptureFixture) -> None:
    """The swap happens when the build first opens a corpus file: after the listing, before the read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "zzz.txt").write_text(SECRET, encoding="utf-8")
    corpus = corpus_with(tmp_path, "a.txt")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "zzz.txt").write_text(TEXT.replace("forty", "fifty"), encoding="utf-8")
    real_read, swapped = rag.corpus.read_source, []

    def read_source_after_swap(folder: Path, source: str, limit: int | None = None) -> bytes:
        if not swapped:
            if swap == "file":  # the file itself becomes a link out of the corpus
                (corpus / "sub" / "zzz.txt").unlink()
                os.symlink(outside / "zzz.txt", corpus / "sub" / "zzz.txt")
            else:  # a folder on its path becomes a link out of the corpus
                (corpus / "sub" / "zzz.txt").unlink()
                (corpus / "sub").rmdir()
                os.symlink(outside, corpus / "sub")
            swapped.append(source)
        return real_read(folder, source, limit)

    monkeypatch.setattr(rag.corpus, "read_source", read_source_after_swap)
    index = tmp_path / "index"
    code, _, err = run(["index", "--corpus", str(corpus), "--index", str(index)], capsys, caplog)
    assert swapped and code == 0
    assert "sub/zzz.txt" in err and "cannot read it" in err  # named, with its reason
    assert "hunter2" not in (index / rag.store.read_manifest(index)["data"] / "passages.jsonl").read_text()
    monkeypatch.setattr(rag.corpus, "read_source", real_read)
    code, out, err = run(["ask", "Wie lautet das Passwort?", "--index", str(index), "--json"], capsys)
    assert "hunter2" not in out + err


def test_read_source_refuses_links_anywhere_on_the_path(tmp_path: Path) -> None:
    corpus = corpus_with(tmp_path, "a.txt")
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    os.symlink(tmp_path / "secret.txt", corpus / "link.txt")
    os.symlink(tmp_path, corpus / "up")
    assert read_source(corpus, "a.txt") == TEXT.encode()
    for source in ("link.txt", "up/secret.txt", "../secret.txt", "/etc/passwd", ""):
        with pytest.raises(OSError):
            read_source(corpus, source)


# --- 2: a file name that is not UTF-8 ------------------------------------------------------------------


@pytest.mark.parametrize("name", [b"bad\xffname.txt", "rtl\u202etxt.exe.txt".encode()])
def test_any_file_name_is_indexed_shown_escaped_and_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 hashing_env: None, name: bytes) -> None:
    corpus = corpus_with(tmp_path, name)
    index = tmp_path / "index"
    flags = ["--index", str(index), "--corpus", str(corpus)]
    code, out, err = run(["index", *flags], capsys)
    assert code == 0 and "Traceback" not in err
    assert not [p for p in index.iterdir() if p.name.startswith("data-")][1:]  # one data folder, no leftovers
    code, out, err = run(["index", *flags], capsys)
    assert code == 0 and "unchanged" in out  # the manifest's name is the walk's name: nothing looks changed
    code, out, err = run(["ask", "Who directed the series?", *flags], capsys)
    assert code == 0 and err == ""
    shown = "bad\\xffname.txt" if b"\xff" in name else "rtl\\u202etxt.exe.txt"
    assert shown in out and "\u202e" not in out and "\udcff" not in out
    code, out, _ = run(["ask", "Who directed the series?", "--json", *flags], capsys)
    passages = json.loads(out)["passages"]
    assert code == 0 and passages and {p["source"] for p in passages} == {os.fsdecode(name)}  # the same name back


# --- 3: folders nested deeper than the recursion limit -------------------------------------------------


def test_deep_folders_are_walked_without_recursion_and_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                hashing_env: None,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    corpus = corpus_with(tmp_path, "top.txt")
    deep = os.fsencode(corpus)
    for _ in range(1100):  # deeper than Python's default recursion limit (1000)
        deep += b"/d"
        os.mkdir(deep)
    with open(deep + b"/bottom.txt", "wb") as handle:
        handle.write(TEXT.encode())
    try:
        _walk_and_ask(corpus, tmp_path, capsys, caplog)
    finally:  # bottom up, without recursion: pytest's own clean-up of old temp folders recurses
        os.unlink(deep + b"/bottom.txt")
        while deep != os.fsencode(corpus):
            os.rmdir(deep)
            deep = os.path.dirname(deep)


def _walk_and_ask(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                  caplog: pytest.LogCaptureFixture) -> None:
    listing = walk(corpus)
    assert listing.sources == ("top.txt",)
    assert [s.source.count("/") for s in listing.skipped] == [MAX_DEPTH]
    index = tmp_path / "index"
    code, out, err = run(["index", "--corpus", str(corpus), "--index", str(index)], capsys, caplog)
    assert code == 0 and "Traceback" not in err and f"nested deeper than {MAX_DEPTH} folders" in err
    code, out, err = run(["ask", "Who directed it?", "--corpus", str(corpus), "--index", str(index)], capsys)
    assert code == 0 and "top.txt" in out


# --- 4: every skipped file named on every build, up to date or not ------------------------------------


def test_an_unreadable_file_is_named_on_every_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], hashing_env: None,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    corpus = corpus_with(tmp_path, "open.txt", "locked.txt")
    (corpus / "empty.txt").write_bytes(b"  \n")
    real_open = os.open

    def open_(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if str(path).endswith("locked.txt"):  # root reads anything: stand in for chmod 000
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", open_)
    flags = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    for state in ("embedded", "unchanged"):
        code, out, err = run(["index", *flags], capsys, caplog)
        assert code == 0 and state in out and "2 file(s) skipped" in out
        assert "skipping locked.txt: cannot read it (Permission denied)" in err
        assert "skipping empty.txt: empty file" in err
    code, out, _ = run(["index", "--json", *flags], capsys)
    report = json.loads(out)
    assert code == 0 and report["unchanged"] is True
    assert {s["source"]: s["reason"] for s in report["skipped"]} == {
        "locked.txt": "cannot read it (Permission denied)", "empty.txt": "empty file"}


# --- 6, 7: app.py's port ----------------------------------------------------------------------------




@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_a_port_out_of_range_is_one_line_and_exit_2(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        load_app().main(["--port", port])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and "1 to 65535" in err


def test_a_port_in_use_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.serve.preparing

    loaded = []
    monkeypatch.setattr(rag.serve.preparing, "open_or_prepare", lambda settings=None: loaded.append(1))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        code = load_app().main(["--port", str(busy.getsockname()[1])])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "in use" in err and "--port" in err
    assert not loaded  # said before any index is loaded or built


# --- observations --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_language_code_never_reaches_a_sentence(lang: str) -> None:
    """A passage whose language could not be detected ("und") once made "Die und Quelle sagt dazu nichts."."""
    unknown = Chunk("notes.txt", 0, 18, "und", "4 x 40 (2022).", "", 1, 1)
    known = Chunk("a.txt", 0, 18, lang, "Vier Folgen.", "", 1, 1)
    answered, unknown_only = [Hit(known, 0.5, 0.5, 0.0, "Vier Folgen.")], [Hit(unknown, 0.5, 0.5, 0.0, "")]
    for hits in ({lang: answered, "und": []}, {lang: [], "und": unknown_only}):
        text = compose("Wie lange?", lang, hits).text
        assert "und" not in text.replace(",", " ").split() and ("andere" if lang == "de" else "other") in text


def test_an_index_path_that_is_a_file_fails_before_embedding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str],
                                                             hashing_env: None) -> None:
    corpus = corpus_with(tmp_path, "a.txt")
    (tmp_path / "taken").write_text("a file", encoding="utf-8")
    embedded = []
    import rag.index.build

    monkeypatch.setattr(rag.index.build, "load_embedder", lambda model: embedded.append(model))
    code, _, err = run(["index", "--corpus", str(corpus), "--index", str(tmp_path / "taken")], capsys)
    assert code == 2 and err.count("\n") == 1 and "is a file, not a folder" in err and not embedded


def test_a_full_disk_fails_before_embedding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.index.build
    import rag.writer

    embedded = []
    monkeypatch.setattr(rag.index.build, "load_embedder", lambda model: embedded.append(model))

    def full(folder: rag.files.Folder, name: str, content: object) -> dict[str, object]:
        raise OSError(errno.ENOSPC, "No space left on device", name)

    monkeypatch.setattr(rag.writer, "write_new", full)
    settings = hashing_settings(corpus_with(tmp_path, "a.txt"), tmp_path / "index")
    with pytest.raises(IndexWriteError, match="the disk is full"):
        build_index(settings)
    assert not embedded and [p.name for p in (tmp_path / "index").iterdir()] == []


@pytest.mark.parametrize("bad", [{"index_dir": 123}, {"settings": "index"}, {"embedder": 1.5}])
def test_assistant_load_refuses_bad_arguments_with_a_rag_error(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="must"):
        Assistant.load(**bad)  # type: ignore[arg-type]


def test_the_page_and_api_show_a_raw_byte_name_escaped(tmp_path: Path, hashing_env: None) -> None:
    import orjson  # what gradio serialises API answers with: it refuses lone surrogates

    from rag.api import make_ask
    from rag.config import Settings
    from rag.serve.chat import Turn, conversation_html
    from rag.serve.viewer import view

    settings = Settings.from_env(corpus_dir=corpus_with(tmp_path, b"bad\xffname.txt"), index_dir=tmp_path / "index")
    build_index(settings)
    assistant = Assistant.load(settings=settings)
    answer = make_ask(assistant)("Who directed the series?")
    assert {p["source"] for p in answer["passages"]} == {"bad\\xffname.txt"} and orjson.dumps(answer)
    shown = assistant.ask("Who directed the series?")
    page = conversation_html([Turn(shown.question, shown, languages=("en",))])
    assert page.count("bad\\xffname.txt") >= 3 and orjson.dumps(page)  # card, quote and viewer's key; sendable
    first = shown.passages[0]
    found = view(assistant.index, ["bad\\xffname.txt", first.start, first.end])  # as the page asks for it
    assert found["title"].startswith("bad\\xffname.txt · line") and orjson.dumps(found)
