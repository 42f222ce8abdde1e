"""Corpus: files → documents made of clean, language-tagged blocks with character spans."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.errors import CorpusError

log = logging.getLogger("rag")

SUFFIXES = {".txt", ".md", ".markdown", ".text"}
MAX_FILE_BYTES = 50 * 1024 * 1024

# Site chrome and advertising, matched on whole short lines or on single sentences.
# Heuristic by design: the sources are scraped web pages, and these are the shapes their noise takes.
_CHROME_LINE = re.compile(
    r"^(kommentare?|kommentar veröffentlichen|comments?|post a comment|leave a (comment|reply)|"
    r"reply|antworten|share|teilen|like|gefällt mir|was this review helpful\??|read more|"
    r"weiterlesen|advertisement|anzeige|werbung|cookie.*|subscribe|newsletter)$",
    re.IGNORECASE,
)
_AD_SENTENCE = re.compile(
    r"versicherung|insurance|\bkredite?\b|\bloans?\b|casino|\bcoupons?\b|promo ?code|gutschein|"
    r"online vergleichen|compare .{0,40} online|sponsored|gesponsert|affiliate",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”“»)]*\s+(?=[\"'„“‘(]?[A-ZÄÖÜ0-9])")
_TERMINAL = tuple(".!?\"'”“»")
_BULLETS = {"-", "–", "—", "*", "•"}


@dataclass(frozen=True)
class Block:
    """A paragraph-like unit: raw[start:end] of its source, with whitespace collapsed in text."""

    source: str
    start: int
    end: int
    text: str
    lang: str
    heading: str


@dataclass(frozen=True)
class Document:
    """One corpus file: its raw text, content hash, main language and clean blocks."""

    source: str
    raw: str
    sha256: str
    lang: str
    blocks: tuple[Block, ...]


def collapse(text: str) -> str:
    """Collapse every whitespace run to one space and strip the ends."""
    return " ".join(text.split())


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    # py3langid ships its model as a numpy archive (no pickle) inside the wheel.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, default: str = "und", min_confidence: float = 0.8) -> str:
    """Detect the ISO 639-1 language of a text with py3langid.

    Args:
        text: the text; short texts rarely reach the confidence bar.
        default: returned when the detector is not confident enough.
        min_confidence: normalised probability the best language needs.

    Returns:
        A two-letter language code, or default.
    """
    letters = sum(ch.isalpha() for ch in text)
    if letters < 12:
        return default
    lang, prob = _identifier().classify(text)
    return str(lang) if prob >= min_confidence else default


def discover(corpus_dir: Path, strict: bool = False) -> list[Path]:
    """List the text files under corpus_dir, skipping (or with strict, refusing) unusable ones.

    Args:
        corpus_dir: the corpus folder.
        strict: raise CorpusError instead of skipping a bad file with a warning.

    Returns:
        Sorted file paths, all inside corpus_dir.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist: create it and put .txt or .md files in it")
    root = corpus_dir.resolve()
    found = []
    for path in sorted(_walk(corpus_dir)):
        problem = _problem(path, root)
        if problem is None:
            found.append(path)
        elif strict:
            raise CorpusError(f"{path}: {problem}")
        else:
            log.warning("skipping %s: %s", path, problem)
    return found


def _walk(folder: Path) -> Iterator[Path]:
    # Do not follow symlinked folders: that is how loops and escapes happen.
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk(entry)
        elif entry.suffix.lower() in SUFFIXES:
            yield entry


def _problem(path: Path, root: Path) -> str | None:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "broken or looping symlink"
    if not real.is_relative_to(root):
        return "links outside the corpus folder"
    if not real.is_file():
        return "not a regular file"
    size = real.stat().st_size
    if size > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES // 2**20} MiB"
    return None


def read_document(path: Path, corpus_dir: Path) -> Document | None:
    """Read one file into a Document, or None (with a warning) when it holds no usable text.

    Args:
        path: the file.
        corpus_dir: the corpus folder; sources are named relative to it.

    Returns:
        The document, or None.
    """
    source = path.relative_to(corpus_dir).as_posix()
    try:
        data = path.read_bytes()
    except OSError as exc:
        log.warning("skipping %s: cannot read (%s)", source, exc.strerror or exc)
        return None
    if b"\x00" in data[:8192]:
        log.warning("skipping %s: binary file", source)
        return None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("skipping %s: not UTF-8 text (convert it to UTF-8)", source)
        return None
    if not raw.strip():
        log.warning("skipping %s: empty file", source)
        return None
    lang = detect_language(raw[:20000], default="und", min_confidence=0.5)
    return Document(source, raw, content_hash(data), lang, tuple(_blocks(source, raw, lang)))


def load_corpus(corpus_dir: Path, strict: bool = False) -> list[Document]:
    """Read every usable document of a corpus folder, with duplicate blocks dropped corpus-wide.

    Args:
        corpus_dir: the corpus folder.
        strict: raise CorpusError on the first unusable file instead of skipping it.

    Returns:
        Documents in path order.
    """
    docs = []
    for path in discover(corpus_dir, strict):
        doc = read_document(path, corpus_dir)
        if doc is None and strict:
            raise CorpusError(f"{path}: unusable file (see the warning above)")
        if doc is not None:
            docs.append(doc)
    return dedupe(docs)


def dedupe(docs: list[Document]) -> list[Document]:
    """Drop every block whose normalised text was already seen earlier in the corpus."""
    seen: set[str] = set()
    out = []
    for doc in docs:
        kept = []
        for block in doc.blocks:
            key = re.sub(r"\W+", "", block.text.casefold())
            if key not in seen:
                seen.add(key)
                kept.append(block)
        out.append(Document(doc.source, doc.raw, doc.sha256, doc.lang, tuple(kept)))
    return out


# --- structure: lines → blocks -------------------------------------------------------------


def _lines(raw: str) -> list[tuple[int, int, str]]:
    """Non-blank lines as (start, end, stripped text), spans excluding surrounding whitespace."""
    out = []
    for match in re.finditer(r"[^\r\n]+", raw):
        text = match.group()
        stripped = text.strip()
        if stripped:
            start = match.start() + len(text) - len(text.lstrip())
            out.append((start, start + len(stripped), stripped))
    return out


def _kind(text: str) -> str:
    if text in _BULLETS:
        return "bullet"
    words = len(text.split())
    if text.endswith(":") and words <= 6:
        return "label"
    if len(text) <= 80 and words <= 12 and not text.endswith(_TERMINAL):
        return "heading"
    return "text"


def _blocks(source: str, raw: str, doc_lang: str) -> Iterator[Block]:
    lines = _lines(raw)
    heading = ""
    i = 0
    while i < len(lines):
        start, end, text = lines[i]
        kind = _kind(text)
        nxt = _kind(lines[i + 1][2]) if i + 1 < len(lines) else None
        if kind == "bullet" and nxt == "label" and i + 2 < len(lines):
            end, i = lines[i + 2][1], i + 3  # "-" / "Episode 1:" / value
        elif kind in ("bullet", "label") and nxt in ("text", "heading"):
            end, i = lines[i + 1][1], i + 2  # "Jahr:" / "2022" is one fact
        elif kind == "heading":
            if not _CHROME_LINE.match(text):
                heading = text
            i += 1
            continue
        else:
            i += 1
        yield from _clean(source, raw, start, end, doc_lang, heading)


def _clean(source: str, raw: str, start: int, end: int, doc_lang: str, heading: str) -> Iterator[Block]:
    """Drop chrome and ad sentences from raw[start:end]; yield what is left as blocks."""
    text = collapse(raw[start:end])
    if _CHROME_LINE.match(text):
        return
    lang = detect_language(text, default=doc_lang)
    if lang != doc_lang and len(text.split()) < 10:
        # A short line in another language than its page is site chrome ("Was this helpful?").
        log.debug("dropping chrome in %s: %r", source, text)
        return
    run_start: int | None = None
    run_end = start
    for s_start, s_end in _sentences(raw, start, end):
        if _AD_SENTENCE.search(raw[s_start:s_end]):
            log.debug("dropping ad sentence in %s: %r", source, raw[s_start:s_end])
            if run_start is not None:
                yield _block(source, raw, run_start, run_end, lang, heading)
            run_start = None
            continue
        if run_start is None:
            run_start = s_start
        run_end = s_end
    if run_start is not None:
        yield _block(source, raw, run_start, run_end, lang, heading)


def _block(source: str, raw: str, start: int, end: int, lang: str, heading: str) -> Block:
    return Block(source, start, end, collapse(raw[start:end]), lang, heading)


def _sentences(raw: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Sentence spans inside raw[start:end], each without surrounding whitespace."""
    pos = start
    for match in _SENTENCE_END.finditer(raw, start, end):
        yield pos, match.start() + len(match.group().rstrip())
        pos = match.end()
    if pos < end:
        yield pos, end


def detect_among(text: str, languages: list[str], default: str) -> str:
    """The most likely of the given languages for text (used for questions, which are short)."""
    if not languages or sum(ch.isalpha() for ch in text) < 2:
        return default
    ranked = dict(_identifier().rank(text))
    return max(languages, key=lambda lang: ranked.get(lang, float("-inf")))
