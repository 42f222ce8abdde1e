"""Plain text and Markdown: UTF-8 (with or without a BOM), UTF-16 or UTF-32 with a BOM; cited by line, so no places."""

from __future__ import annotations

import codecs

from rag.ingest.readers.base import Extracted, ReadError

# UTF-32's BOMs first: UTF-32-LE's begins with UTF-16-LE's.
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: bytes) -> str:
    """Text from bytes: a BOM decides (UTF-8, UTF-16, UTF-32), else UTF-8. Raises ReadError for anything else."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ReadError(f"not valid {encoding.upper().replace('-SIG', '')} text (convert it to UTF-8)") from exc
    if b"\x00" in data[:8192]:
        raise ReadError("binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError("not UTF-8 text (convert it to UTF-8)") from exc


def head(data: bytes, size: int = 65536) -> str:
    """The start of data as text, for a content check: decoded as its BOM says (else UTF-8), errors ignored."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8")
    return data[:size].decode(encoding, "ignore")


def looks_textual(data: bytes) -> bool:
    """Whether the start of data decodes as text (a BOM, or UTF-8 without NUL bytes)."""
    head = data[:4096]
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return True
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a cut multi-byte character at the end is still text
        return exc.start >= len(head) - 3
    return True


class TextReader:
    """.txt and Markdown files, read as they are: offsets index into the decoded file."""

    kind: str = "a text file"
    suffixes: tuple[str, ...] = (".txt", ".md", ".markdown", ".text")

    def sniff(self, data: bytes) -> bool:
        return looks_textual(data)

    def read(self, data: bytes) -> Extracted:
        text = decode(data)
        if not text.strip():
            raise ReadError("empty file")
        return Extracted(text)  # its lines are the user's own: citations name them
