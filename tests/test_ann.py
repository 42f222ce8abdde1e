"""The large-corpus path on a small corpus: thresholds lowered so the real corpus gets an IVF index
(ann.faiss), memory-mapped files and FAISS-chosen candidates, as above 50,000 passages."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag.ann
import rag.search.dense
from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import IndexCorruptError
from rag.index import build_index
from rag.store import ANN, VECTORS, load_index, read_manifest
from tests.conftest import CORPUS, hashing_settings

QUESTIONS = ["Wer führte Regie?", "Who plays Seon-woo?", "Wie viele Folgen hat die Serie?",
             "What do critics say about the music?", "What is the capital of France?"]


@pytest.fixture(scope="module")
def exact_answers(hashing_assistant: Assistant) -> list[dict]:
    """The answers of the usual path (every row scored), taken before the thresholds are lowered."""
    return [hashing_assistant.ask(q, k=3).to_dict() for q in QUESTIONS]


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory, exact_answers: list[dict]) -> Iterator[Settings]:
    """The real corpus indexed as if it were large (83 passages > APPROXIMATE_ABOVE = 20).

    The thresholds stay lowered for the module's tests: loading and searching read them too.
    """
    root = tmp_path_factory.mktemp("large")
    shutil.copytree(CORPUS, root / "corpus")
    settings = hashing_settings(root / "corpus", root / "index")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rag.ann, "APPROXIMATE_ABOVE", 20)
        patch.setattr(rag.search.dense, "EXACT_BELOW", 20)  # FAISS picks candidates instead of scoring every row
        build_index(settings)
        yield settings


def test_above_the_threshold_the_index_is_ivf_with_its_own_file(large: Settings) -> None:
    manifest = read_manifest(large.index_dir)
    nlist, nprobe = rag.ann.ann_plan(manifest["passages"]) or (0, 0)
    assert manifest["passages"] > rag.ann.APPROXIMATE_ABOVE and nlist >= 2
    assert manifest["faiss"] == f"IVF{nlist},SQ8" and manifest["nprobe"] == nprobe
    index = load_index(large.index_dir)
    assert (large.index_dir / manifest["data"] / ANN).is_file()
    assert type(index.faiss_index).__name__ == "IndexIVFScalarQuantizer"
    assert index.faiss_index.nlist == nlist and index.faiss_index.ntotal == len(index.chunks)
    assert index.faiss_index.parallel_mode == 1  # one question's lists scanned on every core
    assert index.exact_index is not index.faiss_index  # exact vectors kept for rescoring


@pytest.mark.parametrize("n", [50_001, 100_000, 1_000_000, 4_000_000])
def test_ivf_probes_three_quarters_of_its_lists_and_at_least_100000_passages(n: int) -> None:
    nlist, nprobe = rag.ann.ann_plan(n) or (0, 0)
    assert nlist >= 2 and nprobe <= nlist
    assert nprobe >= 0.75 * nlist - 1 and nprobe * n / nlist >= min(n, rag.ann.SCAN_AT_LEAST) - n / nlist


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads the process's mappings (Linux)")
def test_large_index_files_are_memory_mapped_not_read(large: Settings) -> None:
    index = load_index(large.index_dir)
    data = large.index_dir / index.manifest["data"]
    mapped = Path("/proc/self/maps").read_text()
    assert str(data / VECTORS) in mapped and str(data / ANN) in mapped


def test_ivf_search_answers_like_exact_search(large: Settings, exact_answers: list[dict]) -> None:
    """With every list probed (small indexes probe at least SCAN_AT_LEAST passages' worth) and candidates
    rescored with the exact vectors, the approximate path must give the exact answers."""
    assistant = Assistant.load(settings=large)
    assert [assistant.ask(q, k=3).to_dict() for q in QUESTIONS] == exact_answers


def test_a_damaged_ann_file_is_caught_before_it_is_mapped(large: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(large.index_dir, copy)
    ann = copy / read_manifest(copy)["data"] / ANN
    raw = bytearray(ann.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    ann.write_bytes(bytes(raw))
    with pytest.raises(IndexCorruptError, match=r"ann\.faiss.*rag index --force"):
        load_index(copy)
