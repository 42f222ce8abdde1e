"""Readers: PDF, Word, HTML and encoded text become text with exact citations; bad files are named with a reason."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.cli import main
from rag.config import Settings
from rag.corpus import collapse, load_corpus
from rag.errors import CorpusError, IndexStaleError
from rag.index import build_index
from rag.ingest.readers import extract, reader_for
from tests.conftest import hashing_settings
from tests.documents import (
    DOCX_TEXT,
    FRENCH,
    HTML_TEXT,
    PDF_PAGES,
    QUESTIONS,
    UTF16,
    docx_bytes,
    html_bytes,
    pdf_bytes,
    with_seeds,
    write_documents,
    zip_bomb,
)


@pytest.fixture
def hashing_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MODEL", "hashing")


def test_a_pdf_gives_its_pages_text_and_each_page_is_a_place() -> None:
    found = extract("notes.pdf", pdf_bytes())
    assert [collapse(p) for p in found.text.split("\n\n")] == PDF_PAGES
    second = found.text.index("lighting designer")
    assert found.place_at(0) == "p. 1" and found.place_at(second) == "p. 2"


def test_a_word_file_keeps_headings_paragraphs_and_table_rows_in_order() -> None:
    found = extract("crew.docx", docx_bytes())
    assert found.text.index("Post-production") < found.text.index(DOCX_TEXT) < found.text.index(
        "Director of photography: Lee Ji-hoon") < found.text.index("Filming days: Twenty-three")
    assert found.place_at(found.text.index(DOCX_TEXT)) == "§ Post-production"


def test_a_web_page_keeps_its_main_text_and_drops_navigation_scripts_and_footer() -> None:
    found = extract("page.html", html_bytes())
    assert HTML_TEXT in found.text and "Every outfit was bought second hand." in found.text
    assert not any(junk in found.text for junk in ("Home", "BUY NOW", "color", "Copyright"))
    assert found.place_at(found.text.index(HTML_TEXT)) == "§ Costumes of Soundtrack #1"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_text_is_read_in_utf8_and_utf16_with_a_bom(encoding: str) -> None:
    data = {"utf-16-le-bom": b"\xff\xfe" + UTF16.encode("utf-16-le"),
            "utf-16-be-bom": b"\xfe\xff" + UTF16.encode("utf-16-be")}.get(encoding) or UTF16.encode(encoding)
    assert extract("notes.txt", data).text == UTF16


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("locked.pdf", pdf_bytes(password="secret"), "encrypted PDF"),
    ("scan.pdf", pdf_bytes(pages=[], blank_page=True), "no text layer"),
    ("broken.pdf", b"%PDF-1.7\n1 0 obj <<", "damaged PDF"),
    ("bomb.docx", zip_bomb(), "zip bomb"),
    ("empty.docx", b"", "empty file"),
    ("empty.txt", b"", "empty file"),
    ("report.pdf", b"just some text, not a PDF", "rename it to …"),
    ("page.docx", html_bytes(), "its content is an HTML page"),
    ("latin1.txt", "Grüße aus München".encode("latin-1"), "not UTF-8"),
    ("old.docx", b"\xd0\xcf\x11\xe0" + b"\0" * 600, "not a Word document"),
])
def test_a_bad_file_is_refused_with_its_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(CorpusError, match=reason.replace(".", r"\.").replace("…", ".")):
        extract(name, data)


def test_readers_are_chosen_by_suffix_in_any_case() -> None:
    assert reader_for("A.PDF") is reader_for("b.pdf") is not None
    assert reader_for("x.xlsx") is None and reader_for("README") is None


def test_a_pdf_with_a_page_without_text_is_indexed_and_the_page_is_named(tmp_path: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "scan.pdf").write_bytes(pdf_bytes(blank_page=True))
    with caplog.at_level(logging.WARNING, logger="rag"):
        [doc] = load_corpus(tmp_path)
    assert "scan.pdf: page(s) 3 have no text layer" in caplog.text and "lighting designer" in doc.raw


def test_bad_files_are_each_named_in_one_line_and_the_rest_is_indexed(tmp_path: Path, hashing_env: None,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    corpus = write_documents(tmp_path / "docs")
    bad = {"locked.pdf": pdf_bytes(password="x"), "bomb.docx": zip_bomb(), "zero.txt": b"",
           "wrong.pdf": b"plain words", "huge.txt": b""}
    for name, data in bad.items():
        (corpus / name).write_bytes(data)
    os.truncate(corpus / "huge.txt", 200 * 2**20)  # 200 MB, sparse: refused by its size, never read
    with caplog.at_level(logging.WARNING, logger="rag"):
        assert main(["index", "--index", str(tmp_path / "i"), "--corpus", str(corpus)]) == 0
    err = caplog.text
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipping")]
    assert sorted(line.split(":")[0].removeprefix("skipping ") for line in lines) == sorted(bad)
    assert "larger than 50 MiB" in err and "encrypted PDF" in err and "zip bomb" in err
    assert main(["ask", "Who was the editor?", "--index", str(tmp_path / "i"), "--corpus", str(corpus)]) == 0


@pytest.fixture
def mixed(tmp_path: Path) -> Settings:
    """The two seeds plus a PDF, a Word file, a web page, UTF-16 text and a French review, hashing embedder."""
    corpus = with_seeds(write_documents(tmp_path / "corpus"))
    return hashing_settings(corpus, tmp_path / "index")


def test_every_format_is_cited_to_the_exact_characters_of_its_extracted_text(mixed: Settings, open_policy: None,
                                                                             caplog: pytest.LogCaptureFixture
                                                                             ) -> None:
    with caplog.at_level(logging.WARNING, logger="rag"):
        report = build_index(mixed)
    assert not report.skipped and not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assistant = Assistant.load(settings=mixed)
    assert "fr" in assistant.languages  # a third language is a column of its own
    for name, (question, words) in QUESTIONS.items():
        passages = [p for p in assistant.ask(question, k=3).passages if p.source == name]
        assert passages, f"{name}: no passage for {question!r}"
        hit = next((p for p in passages if words in p.text), None)
        assert hit is not None, f"{name}: {words!r} not in {[p.text for p in passages]}"
        text = extract(name, (mixed.corpus_dir / name).read_bytes()).text
        assert collapse(text[hit.start:hit.end]) == hit.text  # the citation's characters, exactly
    pdf = next(p for p in assistant.ask(QUESTIONS["notes.pdf"][0], k=3).passages if p.source == "notes.pdf")
    assert pdf.place == "p. 2"


def test_the_cli_names_a_pdf_page_and_the_french_column(mixed: Settings, open_policy: None, hashing_env: None,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    build_index(mixed)
    flags = ["--index", str(mixed.index_dir), "--corpus", str(mixed.corpus_dir), "--k", "3"]
    assert main(["ask", QUESTIONS["notes.pdf"][0], *flags]) == 0
    assert "notes.pdf, p. 2 (chars" in capsys.readouterr().out
    assert main(["ask", QUESTIONS["critique-fr.txt"][0], *flags]) == 0
    out = capsys.readouterr().out
    assert "\nFrançais" in out and "critique-fr.txt:" in out  # a text file is still cited by line


def test_a_french_question_gets_french_passages_first(mixed: Settings, open_policy: None) -> None:
    build_index(mixed)
    answer = Assistant.load(settings=mixed).ask("La série compte combien d'épisodes ?", k=2)
    assert answer.lang == "fr" and answer.passages[0].lang == "fr" and answer.passages[0].text in collapse(FRENCH)


@pytest.mark.slow  # the real model: the seeds' vectors are prebuilt, the five documents' are embedded (seconds)
def test_with_the_real_model_each_format_answers_its_question_in_the_top_3(tmp_path: Path,
                                                                           caplog: pytest.LogCaptureFixture
                                                                           ) -> None:
    corpus = with_seeds(write_documents(tmp_path / "corpus"))
    settings = Settings.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", model="e5-small")
    with caplog.at_level(logging.WARNING, logger="rag"):
        build_index(settings)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assistant = Assistant.load(settings=settings)
    for name, (question, words) in QUESTIONS.items():
        answer = assistant.ask(question, k=3)
        mine = [p for p in answer.passages if p.source == name]
        hit = next((p for p in mine if words in p.text), None)
        assert hit is not None, f"{name}: {question!r} → {[(p.source, p.text[:60]) for p in answer.passages]}"
        text = extract(name, (corpus / name).read_bytes()).text
        assert collapse(text[hit.start:hit.end]) == hit.text
        assert hit.place == {"notes.pdf": "p. 2", "crew.docx": "§ Post-production",
                             "page.html": "§ Costumes of Soundtrack #1"}.get(name, "")


def test_a_freshness_check_parses_no_document_the_index_already_holds(mixed: Settings, open_policy: None,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.corpus
    from rag.index import check_fresh
    from rag.lru import LRU

    build_index(mixed)
    index = Assistant.load(settings=mixed).index
    parsed: list[str] = []
    monkeypatch.setattr(rag.corpus, "extract", lambda name, data: parsed.append(name) or extract(name, data))
    monkeypatch.setattr(rag.corpus, "_SEEN", LRU(64))  # nothing remembered from the build
    check_fresh(index, mixed)
    assert parsed == []  # every file's hash is in the manifest: read and hashed, never parsed
    (mixed.corpus_dir / "new.html").write_bytes(html_bytes().replace(b"Costumes", b"Wardrobe"))
    with pytest.raises(IndexStaleError, match="new.html"):
        check_fresh(index, mixed)
    assert parsed == ["new.html"]  # only the file the index does not know is parsed, to see if it is usable


def test_a_language_without_a_profile_is_kept_with_defaults(tmp_path: Path, open_policy: None,
                                                            hashing_env: None,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from rag.profiles import PROFILES, profile

    corpus = with_seeds(tmp_path / "corpus")
    (corpus / "recensione.txt").write_text(
        "Recensione: Soundtrack #1\n\nLa serie coreana racconta due amici che vivono insieme per due settimane. "
        "La colonna sonora è delicata e la regia è calma.\n\nGli episodi sono quattro e durano circa quaranta "
        "minuti ciascuno, perfetti per una sola serata.\n", encoding="utf-8")
    settings = hashing_settings(corpus, tmp_path / "index")
    build_index(settings)
    assert "it" not in PROFILES and profile("it").stemmer is None and profile("it").name == "it"
    answer = Assistant.load(settings=settings).ask("Quanti episodi ci sono e quanto durano?", k=2)
    assert answer.lang == "it" and answer.passages[0].source == "recensione.txt"
    assert answer.text and "[1]" in answer.text  # English sentences around an Italian quote, never an error
    flags = ["--index", str(settings.index_dir), "--corpus", str(corpus), "--k", "1"]
    assert main(["ask", "Quanti episodi ci sono e quanto durano?", *flags]) == 0
    assert "\nit — " in capsys.readouterr().out  # its own column, named by its code


def test_whatever_the_pdf_parser_raises_is_a_refusal() -> None:
    # pypdf 7 raises DeprecationError for the retired /Fl filter name, outside its own error classes
    data = pdf_bytes().replace(b"/FlateDecode", b"/Fl         ")  # same length: offsets stay valid
    with pytest.raises(CorpusError, match="damaged PDF"):
        extract("old.pdf", data)


def test_a_pdf_with_more_text_or_pages_than_its_size_allows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.ingest.readers.pdf as pdf

    data = pdf_bytes([HTML_TEXT * 20] * 3)
    monkeypatch.setattr(pdf, "MAX_CHARACTERS", 1000)
    with pytest.raises(CorpusError, match="more than 1,000 characters"):
        extract("runaway.pdf", data)
    monkeypatch.setattr(pdf, "MAX_PAGES", 2)
    with pytest.raises(CorpusError, match="more than 2 pages"):
        extract("long.pdf", data)


def test_a_page_nested_beyond_reason_is_refused_before_it_is_parsed() -> None:
    deep = b"<html><body>" + b"<div><span>" * 6000 + b"deep" + b"</body></html>"
    with pytest.raises(CorpusError, match="nested more than 5000 deep"):
        extract("deep.html", deep)
    lists = b"<html><body><ul>" + b"<li>an item" * 20000 + b"</ul></body></html>"  # end tags left out: fine
    assert extract("list.html", lists).text.count("an item") == 20000


def test_an_empty_main_falls_back_to_the_body_and_utf16_pages_are_read() -> None:
    page = f"<html><body><main></main><p>{HTML_TEXT}</p></body></html>"
    assert extract("empty-main.html", page.encode()).text == HTML_TEXT
    assert HTML_TEXT in extract("utf16.html", html_bytes().decode().encode("utf-16")).text
    comment = b"<!-- " + b"x" * 10_000 + b" -->" + html_bytes()  # a long comment before the markup
    assert HTML_TEXT in extract("commented.html", comment).text


def test_utf32_text_with_its_bom_is_read() -> None:
    assert extract("notes.txt", UTF16.encode("utf-32")).text == UTF16


def test_lines_are_counted_for_every_kind_of_line_break() -> None:
    from rag.chunking import LineTable

    for text in ("a\nb\nc", "a\r\nb\r\nc", "a\rb\rc"):
        table = LineTable(text)
        assert [table.line(text.index(ch)) for ch in "abc"] == [1, 2, 3]


def test_a_refused_file_is_not_parsed_again_by_freshness_checks(mixed: Settings, open_policy: None,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.corpus
    from rag.index import check_fresh
    from rag.lru import LRU

    (mixed.corpus_dir / "locked.pdf").write_bytes(pdf_bytes(password="x"))
    build_index(mixed)
    index = Assistant.load(settings=mixed).index
    assert "locked.pdf" not in index.manifest["files"] and len(index.manifest["refused"]) == 1
    parsed: list[str] = []
    monkeypatch.setattr(rag.corpus, "extract", lambda name, data: parsed.append(name) or extract(name, data))
    monkeypatch.setattr(rag.corpus, "_SEEN", LRU(64))
    check_fresh(index, mixed)  # fresh: the refused file is known by its content
    assert parsed == []
