"""PDF: the text layer of each page (pypdf); pages are places, and pages without text are reported."""

from __future__ import annotations

import io
import logging
import time

from rag.ingest.readers.base import Extracted, ReadError, join_parts

MAX_PAGES = 5000
MAX_SECONDS = 60.0  # a PDF whose pages take longer than this to read is refused (a hostile or broken file)
MAX_CHARACTERS = 20_000_000  # … and so is one whose text outgrows what any 50 MiB document holds
TEXT_PER_BYTE = 10  # a PDF's text is rarely more than three or four characters per byte of (compressed) file


class PdfReader:
    """PDF files with a text layer; an encrypted, scanned-only, damaged or runaway PDF is refused with the reason."""

    kind: str = "a PDF"
    suffixes: tuple[str, ...] = (".pdf",)

    def sniff(self, data: bytes) -> bool:
        return b"%PDF-" in data[:1024]

    def read(self, data: bytes) -> Extracted:
        from pypdf import PdfReader as Pdf

        # pypdf's own messages name no file (and some list 256 characters): ours name the file and the reason.
        logging.getLogger("pypdf").setLevel(logging.CRITICAL)
        try:
            pdf = Pdf(io.BytesIO(data))
            if pdf.is_encrypted and not _opens_without_password(pdf):
                raise ReadError("encrypted PDF: save a copy without a password and add that")
            pages = _page_texts(pdf, min(MAX_CHARACTERS, max(1_000_000, TEXT_PER_BYTE * len(data))))
        except ReadError:
            raise
        except Exception as exc:  # noqa: BLE001 - hostile input: whatever the parser raises, the file is refused
            raise ReadError(f"damaged PDF ({type(exc).__name__}: {' '.join(str(exc).split())[:80]})") from exc
        empty = [str(n) for n, text in enumerate(pages, 1) if not text.strip()]
        if len(empty) == len(pages):
            raise ReadError("no text layer on any page (a scanned PDF? run OCR on it first)")
        extracted = join_parts([(f"p. {n}", text.strip()) for n, text in enumerate(pages, 1)])
        if empty:
            warning = f"page(s) {', '.join(empty)} have no text layer (scanned?) and are left out"
            return Extracted(extracted.text, extracted.places, (warning,))
        return extracted


def _page_texts(pdf: object, budget: int) -> list[str]:
    """Each page's text, refused when the pages, the time or the text run beyond what a real document needs."""
    pages = pdf.pages  # type: ignore[attr-defined]
    if len(pages) > MAX_PAGES:
        raise ReadError(f"more than {MAX_PAGES} pages")
    out: list[str] = []
    total, deadline = 0, time.monotonic() + MAX_SECONDS
    for page in pages:
        text = page.extract_text() or ""
        total += len(text)
        if total > budget:
            raise ReadError(f"more than {budget:,} characters of text for its size (a damaged or hostile PDF?)")
        if time.monotonic() > deadline:
            raise ReadError(f"reading it took more than {MAX_SECONDS:.0f} s (a damaged or hostile PDF?)")
        out.append(text)
    return out


def _opens_without_password(pdf: object) -> bool:
    """Whether an encrypted PDF opens with the empty password (only its owner's rights are restricted)."""
    try:
        return bool(pdf.decrypt(""))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a missing AES backend or a broken dictionary: treat as locked
        return False
