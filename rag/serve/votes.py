"""Votes: readers' 👍/👎 on passages, kept as JSON lines beside the index (votes.jsonl); nothing leaves the machine.

A vote names the question, the question's language and the passage by its exact span (source, start,
end), so `rag learn --from votes` can find the passage again after a rebuild (a passage whose text moved
is passed over). The file is appended through the index folder without following a link, and capped.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from rag.answer import Passage
from rag.errors import IndexWriteError
from rag.files import Folder, read_bytes

log = logging.getLogger("rag")

VOTES = "votes.jsonl"
MAX_BYTES = 16 * 1024 * 1024  # about 40,000 votes; more is refused, never silently cut


@dataclass(frozen=True)
class Vote:
    """One reader's verdict on one passage for one question."""

    question: str
    lang: str  # the question's language
    source: str
    start: int
    end: int
    passage_lang: str
    up: bool  # 👍: this passage answers the question; 👎: it does not (a hard negative)
    at: str = ""  # UTC time, ISO 8601


def record_vote(index_dir: Path, question: str, lang: str, passage: Passage, up: bool) -> Vote:
    """Append a vote to the index folder's votes.jsonl.

    Args:
        index_dir: the index folder.
        question: the question as asked (its answer's `question`).
        lang: the question's language.
        passage: the passage voted on.
        up: 👍 (True) or 👎 (False).

    Returns:
        The vote written.

    Raises:
        IndexWriteError: the folder cannot be written, or the file is full.
    """
    vote = Vote(question, lang, passage.source, passage.start, passage.end, passage.lang, up,
                datetime.now(UTC).isoformat(timespec="seconds"))
    line = (json.dumps(asdict(vote)) + "\n").encode()  # ASCII JSON: any file name round-trips
    try:
        with Folder(index_dir, follow=True) as folder:
            fd = folder.open(VOTES, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                if os.fstat(fd).st_size + len(line) > MAX_BYTES:
                    raise IndexWriteError(f"{index_dir / VOTES} holds {MAX_BYTES // 2**20} MiB of votes: learn from "
                                          "them with `rag learn --from votes`, then move the file away")
                os.write(fd, line)  # one write of one line with O_APPEND: lines of concurrent votes never mix
            finally:
                os.close(fd)
    except OSError as exc:
        raise IndexWriteError(f"cannot record the vote in {index_dir}: {exc.strerror or exc}") from None
    return vote


def read_votes(index_dir: Path) -> list[Vote]:
    """Every well-formed vote of the index folder, oldest first (a damaged line is passed over with a warning)."""
    try:
        with Folder(index_dir, follow=True) as folder:
            data = read_bytes(folder, VOTES, None, MAX_BYTES)
    except FileNotFoundError:
        return []
    except OSError as exc:
        log.warning("cannot read the votes in %s: %s", index_dir, exc.strerror or exc)
        return []
    votes = []
    for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        try:
            row = json.loads(line)
            votes.append(Vote(str(row["question"]), str(row["lang"]), str(row["source"]), int(row["start"]),
                              int(row["end"]), str(row["passage_lang"]), bool(row["up"]), str(row.get("at", ""))))
        except (ValueError, KeyError, TypeError):
            log.warning("votes.jsonl line %d is not a vote: passed over", n)
    return votes
