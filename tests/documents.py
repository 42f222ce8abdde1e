"""Documents the tests make themselves: a PDF, a Word file, an HTML page, UTF-16 and French text, and bad files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

# What each document says, and a question whose answer only it holds (question, words of the answer).
PDF_PAGES = ["Soundtrack #1 production notes. The crew worked in Seoul during the spring.",
             "The lighting designer Park Min-jae used warm amber lamps for every night scene in the flat."]
DOCX_FACTS = [("Director of photography", "Lee Ji-hoon"), ("Filming days", "Twenty-three")]
DOCX_TEXT = "The editor Choi Yu-ri cut the series on a small laptop in a rented cafe near the Han river."
HTML_TEXT = "The costume designer Jang Hye-won dressed the lyricist in soft knitted cardigans."
FRENCH = ("Critique : Soundtrack #1\n\nLa série compte quatre épisodes. Le réalisateur a choisi une caméra "
          "très calme.\n\nLa chanteuse Mademoiselle Dubois a traduit les paroles pour le public parisien.\n")
UTF16 = "Notes in UTF-16: the rehearsal room had a green piano that nobody could tune properly.\n"
QUESTIONS = {  # file → (question, words the answering passage holds)
    "notes.pdf": ("Who designed the lighting for the night scenes?", "lighting designer Park Min-jae"),
    "crew.docx": ("Who was the editor who cut the series?", "editor Choi Yu-ri"),
    "page.html": ("Who designed the costumes?", "costume designer Jang Hye-won"),
    "critique-fr.txt": ("Qui a traduit les paroles pour le public parisien ?", "Mademoiselle Dubois"),
    "utf16.txt": ("What colour was the piano in the rehearsal room?", "green piano"),
}


def pdf_bytes(pages: list[str] | None = None, blank_page: bool = False, password: str | None = None) -> bytes:
    """A PDF with one text page per entry (and a page with a drawing but no text, if asked)."""
    from fpdf import FPDF

    pdf = FPDF()
    if password is not None:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.set_font("Helvetica", size=12)
    for text in PDF_PAGES if pages is None else pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    if blank_page:
        pdf.add_page()
        pdf.rect(20, 20, 100, 60)  # a "scan": ink, no text layer
    return bytes(pdf.output())


def docx_bytes() -> bytes:
    """A Word file: a title, a heading, a paragraph and a two-column table of facts."""
    import docx

    document = docx.Document()
    document.add_heading("Crew notes", level=0)
    document.add_heading("Post-production", level=1)
    document.add_paragraph(DOCX_TEXT)
    table = document.add_table(rows=0, cols=2)
    for key, value in DOCX_FACTS:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = key, value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def html_bytes() -> bytes:
    """A web page with navigation, a script, a footer and the main text."""
    return f"""<!doctype html><html><head><title>Costumes</title><script>var ads = "BUY NOW";</script>
<style>p {{ color: red }}</style></head><body><nav><a href="/">Home</a> | <a href="/news">News</a></nav>
<main><h1>Costumes of Soundtrack #1</h1><p>{HTML_TEXT}</p><p>Every outfit was <b>bought second hand</b>.</p></main>
<footer>Copyright 2024 Example Media. All rights reserved.</footer></body></html>""".encode()


def zip_bomb() -> bytes:
    """A .docx-shaped archive whose one part expands a thousandfold (20 MiB of zeros)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (20 * 2**20))
    return out.getvalue()


def with_seeds(folder: Path) -> Path:
    """folder (made if missing) holding a copy of the project's two seed documents; returns it."""
    from rag.config import PROJECT_DIR

    folder.mkdir(parents=True, exist_ok=True)
    for seed in (PROJECT_DIR / "corpus").iterdir():
        (folder / seed.name).write_bytes(seed.read_bytes())
    return folder


def write_documents(folder: Path) -> Path:
    """Write the five good documents into folder; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.pdf").write_bytes(pdf_bytes())
    (folder / "crew.docx").write_bytes(docx_bytes())
    (folder / "page.html").write_bytes(html_bytes())
    (folder / "critique-fr.txt").write_text(FRENCH, encoding="utf-8")
    (folder / "utf16.txt").write_bytes(UTF16.encode("utf-16"))
    return folder
