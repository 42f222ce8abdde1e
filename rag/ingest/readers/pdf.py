"""PDF: the text layer of each page (pypdf); pages are places, and pages without text are reported."""

from __future__ import annotations

import io
import logging

from rag.ingest.readers.base import Extracted, ReadError, join_parts

log = logging.getLogger("rag")


class PdfReader:
    """PDF files with a text layer; an encrypted or scanned-only PDF is refused with the reason."""

    kind: str = "a PDF"
    suffixes: tuple[str, ...] = (".pdf",)

    def sniff(self, data: bytes) -> bool:
        return b"%PDF-" in data[:1024]

    def read(self, data: bytes) -> Extracted:
        from pypdf import PdfReader as Pdf
        from pypdf.errors import PdfReadError

        logging.getLogger("pypdf").setLevel(logging.ERROR)  # its own warnings name no file; ours do
        try:
            pdf = Pdf(io.BytesIO(data))
            if pdf.is_encrypted and not _opens_without_password(pdf):
                raise ReadError("encrypted PDF: save a copy without a password and add that")
            pages = [(page.extract_text() or "") for page in pdf.pages]
        except ReadError:
            raise
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
                NotImplementedError, OSError) as exc:  # pypdf raises many kinds on a damaged file
            raise ReadError(f"damaged PDF ({type(exc).__name__}: {str(exc)[:80]})") from exc
        empty = [str(n) for n, text in enumerate(pages, 1) if not text.strip()]
        if len(empty) == len(pages):
            raise ReadError("no text layer on any page (a scanned PDF? run OCR on it first)")
        extracted = join_parts([(f"p. {n}", text.strip()) for n, text in enumerate(pages, 1)])
        if empty:
            warning = f"page(s) {', '.join(empty)} have no text layer (scanned?) and are left out"
            return Extracted(extracted.text, extracted.places, (warning,))
        return extracted


def _opens_without_password(pdf: object) -> bool:
    """Whether an encrypted PDF opens with the empty password (only its owner's rights are restricted)."""
    try:
        return bool(pdf.decrypt(""))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a missing AES backend or a broken dictionary: treat as locked
        return False
