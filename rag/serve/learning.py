"""Learning: `rag learn` and the page's "Learn from N new votes": gather labelled questions, teach, install or undo."""

from __future__ import annotations

from pathlib import Path

from rag.config import Settings
from rag.errors import ConfigError, RagError
from rag.evaluation import DEFAULT_SET, load_set
from rag.retrieve import Retriever
from rag.search.adapter import PREVIOUS, Adapter, load_adapter, remove_adapter, save_adapter
from rag.search.learn import Pair
from rag.search.teach import Lesson, pairs_from, teach
from rag.serve.votes import Vote, read_votes


def pairs_from_votes(votes: list[Vote], retriever: Retriever) -> list[Pair]:
    """A pair per (question, passage language) with at least one 👍; its 👎 passages are hard negatives.

    Votes on passages the index no longer holds (the text moved in a rebuild) are passed over.
    """
    chunks, rows = retriever.index.chunks, {}
    for lang, (lo, hi) in retriever.ranges.items():
        rows.update({(c.source, c.start, c.end): (lang, i - lo) for i, c in enumerate(chunks[lo:hi], start=lo)})
    marked: dict[tuple[str, str, str], tuple[set[int], set[int]]] = {}
    for vote in votes:
        found = rows.get((vote.source, vote.start, vote.end))
        if found is not None:
            up, down = marked.setdefault((vote.question, vote.lang, found[0]), (set(), set()))
            (up if vote.up else down).add(found[1])
    wanted = [(key, up, down - up) for key, (up, down) in marked.items() if up]
    questions = sorted({key[0] for key, _, _ in wanted})
    vectors = dict(zip(questions, retriever.question_vectors(questions), strict=True)) if questions else {}
    return [Pair(question, f"{lang}->{target}", vectors[question], target, tuple(sorted(up)), tuple(sorted(down)))
            for (question, lang, target), up, down in wanted]


def learn(settings: Settings, sources: list[str], install: bool = True) -> Lesson:
    """Train the index's adapter from the named sources and install it when it beats identity.

    Args:
        settings: which index (the adapter setting is ignored: training starts from plain vectors).
        sources: "tune" (the eval set's tune split), "votes" (the readers' votes), or paths of eval-set files.
        install: False only measures.

    Returns:
        The Lesson: figures with and without the adapter, and whether it was installed.

    Raises:
        ConfigError: an unreadable file; IndexNotFoundError etc. for the index.
    """
    from rag.assistant import Assistant

    assistant = Assistant.load(settings=settings.with_(adapter=0), check_stale=False)
    retriever = assistant.retriever
    pairs: list[Pair] = []
    votes = 0
    for source in dict.fromkeys(sources):
        if source == "votes":
            found = read_votes(settings.index_dir)
            votes = len(found)
            pairs += pairs_from_votes(found, retriever)
        elif source == "tune":
            pairs += pairs_from([i for i in load_set(DEFAULT_SET) if i.split == "tune"], retriever)
        else:
            pairs += pairs_from(load_set(Path(source)), retriever)
    if not pairs and sources == ["votes"]:
        raise ConfigError("no usable votes yet: vote 👍 on the passages that answer questions in the page, "
                          "then run `rag learn --from votes`")
    # The project's test split, measured never trained on (not there in an installed copy: nothing measured).
    held = [i for i in load_set(DEFAULT_SET) if i.split == "test"] if DEFAULT_SET.exists() else []
    test = pairs_from(held, retriever)
    return teach(retriever, pairs, test, settings.index_dir, install, {"votes": votes, "sources": sorted(sources)})


def current(index_dir: Path, model: str, dim: int) -> Adapter:
    """The index's adapter; identity when it has none or it cannot be used (a damaged or foreign file)."""
    try:
        return load_adapter(index_dir, model, dim)
    except RagError:
        return Adapter(model)


def new_votes(index_dir: Path, model: str, dim: int) -> int:
    """How many votes the index's adapter has not learned from yet."""
    learned = current(index_dir, model, dim).info.get("votes", 0)
    return max(0, len(read_votes(index_dir)) - (learned if isinstance(learned, int) else 0))


def learn_from_votes(settings: Settings, model: str, dim: int) -> Lesson:
    """The page's "Learn": the votes plus whatever the adapter learned from before; the old one kept for undo."""
    before = current(settings.index_dir, model, dim)
    sources = [s for s in before.info.get("sources", []) if isinstance(s, str)]
    lesson = learn(settings, sorted({*sources, "votes"}))
    if lesson.installed and not before.identity:
        save_adapter(settings.index_dir, before, PREVIOUS)
    elif lesson.installed:
        remove_adapter(settings.index_dir, PREVIOUS)
    return lesson


def undo(index_dir: Path, model: str, dim: int) -> str:
    """Put back the adapter from before the page's last "Learn" (none, if there was none)."""
    try:
        previous = load_adapter(index_dir, model, dim, PREVIOUS)
    except RagError:
        previous = Adapter(model)
    if previous.identity:
        remove_adapter(index_dir)
    else:
        save_adapter(index_dir, previous)
    remove_adapter(index_dir, PREVIOUS)
    return "Undone: the assistant ranks as it did before the last learning."


def reset(index_dir: Path) -> str:
    """Remove the adapter (undo learning); a sentence saying what happened."""
    removed = remove_adapter(index_dir)
    return (f"{'removed the adapter of' if removed else 'no adapter in'} {index_dir}: questions use their plain "
            "vectors")
