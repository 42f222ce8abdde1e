"""Word (.docx): paragraphs, headings and tables in reading order (python-docx); headings are places."""

from __future__ import annotations

import io
import time
import zipfile

from rag.ingest.readers.base import Extracted, ReadError, join_parts

MAX_EXPANDED = 200 * 1024 * 1024  # a .docx whose parts expand beyond this is refused (a zip bomb)
MAX_RATIO = 200  # nor may any part expand more than this many times its compressed size
MAX_PARTS = 5000
MAX_SECONDS = 60.0  # a document whose body takes longer than this to read is refused


class DocxReader:
    """.docx files; a damaged, encrypted or bomb-shaped archive is refused with the reason."""

    kind: str = "a Word document"
    suffixes: tuple[str, ...] = (".docx",)

    def sniff(self, data: bytes) -> bool:
        return data.startswith(b"PK\x03\x04") and b"word/" in data[:65536]

    def read(self, data: bytes) -> Extracted:
        _check_archive(data)
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            document = docx.Document(io.BytesIO(data))
            parts = list(_body(document))
        except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise ReadError(f"damaged Word document ({type(exc).__name__})") from exc
        except Exception as exc:  # noqa: BLE001 - lxml's XMLSyntaxError and kin: the file is unusable, say so
            raise ReadError(f"damaged Word document ({type(exc).__name__})") from exc
        extracted = join_parts(parts)
        if not extracted.text.strip():
            raise ReadError("no text in the document")
        return extracted


def _check_archive(data: bytes) -> None:
    """Refuse a .docx that is no archive, is encrypted, or would expand far beyond its size (checked unpacked)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        if data.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE file: Word's password protection, or an old .doc
            raise ReadError("encrypted or old-format Word file: save it as an unprotected .docx") from exc
        raise ReadError("damaged Word document (not a zip archive)") from exc
    if len(infos) > MAX_PARTS:
        raise ReadError(f"more than {MAX_PARTS} parts inside (a zip bomb?)")
    if sum(i.file_size for i in infos) > MAX_EXPANDED:
        raise ReadError(f"expands to more than {MAX_EXPANDED // 2**20} MiB (a zip bomb?)")
    if any(i.file_size > MAX_RATIO * max(i.compress_size, 1) + 65536 for i in infos):
        raise ReadError(f"a part expands more than {MAX_RATIO} times (a zip bomb?)")
    if any(i.flag_bits & 0x1 for i in infos):
        raise ReadError("encrypted Word document: save a copy without a password and add that")


def _body(document: object) -> list[tuple[str, str]]:
    """(section, text) for each paragraph and table row, in the order the body holds them."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    # Style names by id, read once: python-docx looks each paragraph's style up among all styles, which
    # takes minutes for a file of thousands of styles and paragraphs.
    styles = {style.style_id: style.name or "" for style in document.styles}  # type: ignore[attr-defined]
    out: list[tuple[str, str]] = []
    section = ""
    deadline = time.monotonic() + MAX_SECONDS
    for block in document.iter_inner_content():  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise ReadError(f"reading it took more than {MAX_SECONDS:.0f} s (a damaged or hostile file?)")
        if isinstance(block, Paragraph):
            text = block.text.strip()
            style = styles.get(block._p.style or "", "")  # noqa: SLF001 - the id, without the slow lookup
            if text and (style.startswith("Heading") or style == "Title"):
                section = text
            out.append((f"§ {section}" if section else "", text))
        elif isinstance(block, Table):
            for row in block.rows:
                cells = _unique(cell.text.strip() for cell in row.cells)
                # A two-column row reads as a fact ("Director: Kim"), as the text files write them.
                line = f"{cells[0]}: {cells[1]}" if len(cells) == 2 else " | ".join(cells)
                out.append((f"§ {section}" if section else "", line))
    return out


def _unique(cells: object) -> list[str]:
    """Cell texts without the repeats python-docx gives for merged cells, empty ones dropped."""
    out: list[str] = []
    for text in cells:  # type: ignore[attr-defined]
        if text and (not out or out[-1] != text):
            out.append(text)
    return out
