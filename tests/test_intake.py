"""Adding documents: checked before they are written, safe names, nothing replaced, the index updated."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.assistant import Assistant, add_documents
from rag.cli import main
from rag.corpus import content_hash
from rag.errors import CorpusError
from rag.index import build_index
from rag.ingest.intake import add_files, safe_name
from tests.conftest import hashing_settings
from tests.documents import QUESTIONS, docx_bytes, pdf_bytes, with_seeds, zip_bomb


@pytest.mark.parametrize(("given", "safe"), [
    ("notes.pdf", "notes.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\Report FINAL.DOCX", "Report FINAL.docx"),
    (".hidden.txt", "hidden.txt"),
    ("a\x00b;rm -rf.html", "a_b_rm -rf.html"),
    ("Überblick über die Serie.md", "Überblick über die Serie.md"),
    ("...", "document"),
    ("x" * 300 + ".txt", "x" * 100 + ".txt"),
])
def test_names_become_one_plain_name_in_the_corpus_folder(given: str, safe: str) -> None:
    assert safe_name(given) == safe


def test_good_files_are_added_and_bad_ones_refused_before_anything_is_written(tmp_path: Path) -> None:
    corpus, incoming = tmp_path / "corpus", tmp_path / "in"
    corpus.mkdir()
    incoming.mkdir()
    files = {"notes.pdf": pdf_bytes(), "crew.docx": docx_bytes(), "bomb.docx": zip_bomb(), "empty.txt": b"",
             "locked.pdf": pdf_bytes(password="x"), "sheet.xlsx": b"PK\x03\x04"}
    for name, data in files.items():
        (incoming / name).write_bytes(data)
    os.symlink(incoming / "notes.pdf", incoming / "link.pdf")
    intake = add_files(sorted(incoming.iterdir()), corpus)
    assert sorted(intake.added) == ["crew.docx", "notes.pdf"]
    reasons = {r.source: r.reason for r in intake.refused}
    assert set(reasons) == {"bomb.docx", "empty.txt", "locked.pdf", "sheet.xlsx", "link.pdf"}
    assert "zip bomb" in reasons["bomb.docx"] and "encrypted" in reasons["locked.pdf"]
    assert reasons["link.pdf"] == "a symbolic link: add the file itself"
    assert sorted(p.name for p in corpus.iterdir()) == ["crew.docx", "notes.pdf"]  # no temporary left behind


def test_a_name_in_use_is_never_replaced_and_the_same_file_is_not_added_twice(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.pdf").write_bytes(b"%PDF- the user's own")
    upload = tmp_path / "notes.pdf"
    upload.write_bytes(pdf_bytes())
    first = add_files([upload], corpus)
    assert first.added == ("notes-2.pdf",) and (corpus / "notes.pdf").read_bytes() == b"%PDF- the user's own"
    again = add_files([upload], corpus, known={"notes-2.pdf": content_hash(pdf_bytes())})
    assert not again.added and "already in the corpus as notes-2.pdf" in again.refused[0].reason


def test_too_many_files_at_once_are_refused_whole(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="at most 2"):
        add_files([tmp_path / "a.txt"] * 3, tmp_path, max_files=2)


def test_a_file_over_the_limit_is_refused_without_being_read(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"")
    os.truncate(big, 3 * 2**20)
    (tmp_path / "corpus").mkdir()
    intake = add_files([big], tmp_path / "corpus", limit=2**20)
    assert "larger than 1 MiB" in intake.refused[0].reason


def test_add_documents_updates_a_running_assistants_index(tmp_path: Path, open_policy: None) -> None:
    corpus = with_seeds(tmp_path / "corpus")
    settings = hashing_settings(corpus, tmp_path / "index")
    build_index(settings)
    assistant = Assistant.load(settings=settings)
    question, words = QUESTIONS["notes.pdf"]
    assert not any(words in p.text for p in assistant.ask(question).passages)
    (tmp_path / "notes.pdf").write_bytes(pdf_bytes())
    intake = add_documents([tmp_path / "notes.pdf"], settings)
    assert intake.added == ("notes.pdf",)
    found = [p for p in assistant.ask(question).passages if words in p.text]  # the same assistant, switched
    assert found and found[0].place == "p. 2"


def test_rag_add_copies_updates_and_names_what_it_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_MODEL", "hashing")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seed.txt").write_text("Soundtrack #1 is a Korean series with four episodes.", encoding="utf-8")
    (tmp_path / "crew.docx").write_bytes(docx_bytes())
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.7 broken")
    flags = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    assert main(["add", str(tmp_path / "crew.docx"), str(tmp_path / "bad.pdf"), *flags]) == 2
    out, err = capsys.readouterr()
    refused = [line for line in err.splitlines() if line.startswith("rag:")]  # the rest is the build's progress
    assert "added crew.docx" in out and len(refused) == 1 and "not added bad.pdf: damaged PDF" in refused[0]
    assert (corpus / "crew.docx").exists() and not (corpus / "bad.pdf").exists()
    assert main(["ask", "Who was the editor?", "--k", "1", *flags]) == 0
    assert "crew.docx, § Post-production" in capsys.readouterr().out


def test_uploads_are_refused_on_a_public_address_without_a_login() -> None:
    from rag.errors import ConfigError
    from rag.serve.page import launch

    with pytest.raises(ConfigError, match="needs a login"):
        launch(None, host="0.0.0.0", allow_upload=True)


def test_the_page_s_uploads_say_what_they_do_and_switch_the_assistant(tmp_path: Path, open_policy: None) -> None:
    from rag.serve.upload import Uploads

    settings = hashing_settings(with_seeds(tmp_path / "corpus"), tmp_path / "index")
    build_index(settings)
    assistant = Assistant.load(settings=settings)
    uploads = Uploads(assistant)
    assert uploads.status() == "" and uploads.add([]) == "No file was chosen."
    (tmp_path / "crew.docx").write_bytes(docx_bytes())
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.7 broken")
    said = uploads.add([str(tmp_path / "crew.docx"), str(tmp_path / "bad.pdf")])
    assert said.startswith("Adding crew.docx") and "Not added bad.pdf: damaged PDF" in said
    assert uploads._thread is not None
    uploads._thread.join(60)
    assert uploads.status() == "Added crew.docx: ask about it now."
    assert "crew.docx" in {c.source for c in assistant.index.chunks}  # switched without a question asked


def test_a_long_name_in_any_script_fits_the_file_system_and_hidden_files_are_left_alone(tmp_path: Path) -> None:
    corpus, incoming = tmp_path / "corpus", tmp_path / "in"
    corpus.mkdir()
    incoming.mkdir()
    hidden = corpus / ".notes.txt.part"
    hidden.write_text("someone else's", encoding="utf-8")
    long = incoming / ("가" * 80 + ".txt")  # 240 bytes of name: over most file systems' 255 with a suffix added
    long.write_text("Soundtrack #1 has four episodes.", encoding="utf-8")
    intake = add_files([long], corpus)
    assert len(intake.added) == 1 and len(intake.added[0].encode()) <= 200 and not intake.refused
    assert hidden.read_text(encoding="utf-8") == "someone else's"
