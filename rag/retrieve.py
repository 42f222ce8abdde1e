"""Retrieval: question → ranked hits per language, fusing dense (FAISS) and lexical (BM25) scores."""

from __future__ import annotations

import threading
from contextlib import nullcontext
from dataclasses import replace

import numpy as np

from rag.abstention import Abstention
from rag.config import Settings
from rag.conversation import blend, leans_on_context
from rag.embedding import Embedder
from rag.index.vectorstore import VectorStore, open_store
from rag.lexical import BM25, tokenize
from rag.lru import LRU
from rag.profiles import DEFAULT
from rag.search.adapter import Adapter, Dense, dense_side
from rag.search.answertype import asked_type, contained_types
from rag.search.dense import DenseScorer, one_blas_thread
from rag.search.fusion import Fusion
from rag.search.probe import shipped_for as shipped_probe
from rag.search.query import Query
from rag.search.ranker import Kinds, Ranker, kinds_of, shipped_for
from rag.search.ranker import features as ranker_features
from rag.search.sides import Found, Hit, Side, features
from rag.store import Index
from rag.text import letter_words, split_sentences, word_key
from rag.vocabulary import Bridge, SoftMatcher, common_words, proper_nouns, words

WORD_CACHE = 4096  # vectors of past questions' words kept besides the corpus words' (8 MB at 512 dimensions)


class Retriever:
    """Scores passages of each language against a question. Thread-safe; build once, share."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings, adapter: Adapter | None = None,
                 ranker: Ranker | None = None, store: VectorStore | None = None) -> None:
        self.index, self.embedder, self.settings = index, embedder, settings
        self.store = store or open_store(settings.store, index)  # the index's own vectors unless settings say
        self.adapter = adapter or Adapter(index.manifest["model"])  # identity unless `rag learn` trained one
        one_blas_thread()
        self.word_embedder = embedder  # the model behind the corpus word vectors
        self.ranges = index.ranges
        texts = [index.names.normalize(c.embedding_text()) for c in index.chunks]  # names in one spelling
        self._bm25 = {lang: BM25([tokenize(t, lang) for t in texts[lo:hi]]) for lang, (lo, hi) in self.ranges.items()}
        # Model objects are not all documented as thread-safe; those that are run in parallel.
        self._lock: threading.Lock | nullcontext[None] = threading.Lock() if not embedder.thread_safe else nullcontext()
        self._common = common_words(index.chunks, settings.common_word_share)
        self._proper = proper_nouns(index.chunks, index.names) - self._common
        self.abstention = Abstention(index, settings, self._proper, texts)
        self._bridge = Bridge(index.vocabulary, index.vocabulary_vectors, settings.bridge_similarity)
        self._soft = {
            lang: SoftMatcher(index.vocabulary.get(lang, []), index.vocabulary_vectors.get(lang, np.zeros((0, 1))),
                              [c.text for c in index.chunks[lo:hi]], settings.soft_floor)
            for lang, (lo, hi) in self.ranges.items()
        }
        self.dense = DenseScorer(index, settings, self.store)
        self.fusion = Fusion(index, settings, self.dense, self._bm25, self._soft)
        self.ranker = ranker or (shipped_for(index.manifest["model"]) if settings.ranker else None)
        self.probes = shipped_probe(index.manifest["model"], index.vectors.shape[1], index.manifest["files"])
        self._names = sorted(set(index.names.canonical.values()))
        self.kinds: Kinds = kinds_of([c.text for c in index.chunks], [contained_types(t, self._names) for t in texts])
        self._row = {(c.source, c.start): i for i, c in enumerate(index.chunks)}
        self._question_words: LRU[str, np.ndarray] = LRU(WORD_CACHE)  # bounded: new words come with every question
        # Corpus and everyday words already have vectors in the index (fixed); past questions' go to the LRU.
        self._word_vectors: dict[str, np.ndarray] = dict(zip(index.everyday_words, index.everyday_vectors, strict=True))
        for lang in index.vocabulary:
            self._word_vectors.update(zip(index.vocabulary[lang], index.vocabulary_vectors[lang], strict=True))

    @property
    def languages(self) -> list[str]:
        return sorted(self.ranges)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed question-side texts with the index's model (serialised: one model call at a time)."""
        with self._lock:
            return self.embedder.embed_batch(texts, "query")

    def question_vectors(self, questions: list[str]) -> np.ndarray:
        """Questions embedded as search embeds them (names in one spelling, common words out), unadapted."""
        return self.embed([self._without_common_words(self.index.names.normalize(q)) for q in questions])

    def leans_on_context(self, question: str) -> bool:
        """Whether a question is a follow-up that needs the earlier turns (see rag.conversation)."""
        query = self.index.names.normalize(question)
        tokens = set(letter_words(query.casefold()))
        names = any(ch.isdigit() for ch in query) or bool(tokens & self._proper)
        return leans_on_context(question, words(query), names)

    def search(self, question: str, k: int, languages: list[str] | None = None,
               lang: str = DEFAULT, joined: bool = False) -> dict[str, list[Hit]]:
        """Rank each language's passages for the question, keeping those the refusal rules let through.

        Args:
            question: the question (any language).
            k: at most this many hits per language.
            languages: restrict to these languages (default: every language of the index).
            lang: the question's language.
            joined: the question is a follow-up joined with earlier turns (see search_sides).

        Returns:
            Language → hits, best first; a language with nothing relevant maps to [].
        """
        sides = self.search_sides(question, k, languages, lang, joined)
        return {t: [] if s.hidden else [h for h in s.hits if h.score >= self.settings.min_score]
                for t, s in sides.items()}

    def search_sides(self, question: str, k: int, languages: list[str] | None = None,
                     lang: str = DEFAULT, joined: bool = False, alone: str = "") -> dict[str, Side]:
        """Every language's best passages, with what the refusal rules say of them and the signals behind it.

        joined: the question is a follow-up joined with earlier turns; their words are context, so a word
        the sources never use does not count against it (tuning follow-ups: 0.85 hit@3 without that check,
        0.75 with it), nor does a name only one source writes. alone: that follow-up by itself, whose
        vector takes settings.follow_up_weight of the question's.
        """
        targets = [t for t in (languages or self.languages) if t in self.ranges]
        query = self.query(question, lang, targets, joined, alone)
        dense = dense_side(self.dense, self.adapter, query.vector)
        found = {t: self._search_language(query, t, dense, k) for t in targets}
        asked = self._question_signals(query, found, targets, dense)  # judged before the entity pass
        if self.settings.entity_weight > 0 and len(targets) > 1:
            found = self._entity_pass(query, found, dense, k)
        return self._sides(query, found, asked, dense)

    def query(self, question: str, lang: str, targets: list[str], joined: bool = False, alone: str = "") -> Query:
        """The question as every stage reads it: one spelling of names, vectors, answer type, terms per language."""
        text = self.index.names.normalize(question)
        vector, word_vectors = self._vectors(text, alone)
        matrix = np.array(list(word_vectors.values()), dtype=np.float32).reshape(
            -1, self.word_embedder.dim or len(vector))
        return Query(text, lang, asked_type(alone or question), joined, vector, word_vectors, matrix,
                     {t: self._bridge.expand(text, t, word_vectors) for t in targets},
                     matrix if self.settings.soft_weight > 0 else matrix[:0])

    def _question_signals(self, query: Query, found: dict[str, Found], targets: list[str],
                          dense: Dense) -> dict[str, float]:
        """What the question's own signals say: its evidence after the penalties, the old rule's verdict, probes."""
        plain_best = max([0.0, *(f.evidence for f in found.values())])
        unknown_name = bool(self.abstention.unknown_names(query.text, query.lang))
        unknown_word = not query.joined and self.abstention.has_unknown_word(query.matrix, targets)
        evidence = (plain_best - self.settings.unknown_name_penalty * unknown_name
                    - self.settings.unknown_word_penalty * unknown_word)
        return {"question": evidence, "best_any": plain_best, "unknown_name": float(unknown_name),
                "unknown_word": float(unknown_word), "gate": float(evidence < self.settings.min_question_score),
                **(self.probes.signals(dense.plain, query.text) if self.probes else {})}

    def _entity_pass(self, query: Query, found: dict[str, Found], dense: Dense, k: int) -> dict[str, Found]:
        """Second pass: names and numbers of the best passage in the other languages ("Kim Hee-won", "2022")
        point at the passage stating the same fact here."""
        second = dict(found)
        for target in found:
            others = [f.hits[0] for lang2, f in found.items() if lang2 != target and f.best is not None]
            if others:
                anchor = max(others, key=lambda h: h.score)
                row = self._row[(anchor.chunk.source, anchor.chunk.start)]
                boost = self.fusion.entity.terms(row, anchor.chunk.text, target, query.terms[target])
                second[target] = self._search_language(query, target, dense, k, boost, anchor)
        return second

    def _sides(self, query: Query, found: dict[str, Found], asked: dict[str, float], dense: Dense) -> dict[str, Side]:
        """Each language's hits (highlighted), what the old refusal rules say of them, and their signals."""
        weak = self.abstention.weak_languages({t: f.best for t, f in found.items()})
        silent = set() if query.joined else self.abstention.silent_languages(query.text, query.lang, query.words)
        whole = {**asked, "top_any": max([0.0, *(f.hits[0].score for f in found.values() if f.hits)])}
        sides = {}
        for t, f in found.items():
            hidden = "off-topic" if whole["gate"] else "weak" if t in weak else "silent" if t in silent else ""
            signals = {**whole, **features(f, found, t == query.lang, t in silent, bool(query.asked),
                                           self._holds(f, query.asked))}
            if f"probe_answerable_{t}" in whole:
                signals["probe_answerable"] = whole[f"probe_answerable_{t}"]
            best = max([h.score for h in f.hits], default=0.0)
            hits = [self._with_highlight(h, dense.adapted, best, query.asked) for h in f.hits]
            sides[t] = Side(hits, hidden, signals)
        return sides

    def _holds(self, found: Found, asked: str) -> bool:
        """Whether one of a language's top 3 passages contains what the question asks for."""
        return bool(asked) and any(asked in self.kinds.types[self._row[(h.chunk.source, h.chunk.start)]]
                                   for h in found.hits[:3])

    def _vectors(self, query: str, alone: str = "") -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The question's vector (a follow-up's blended with alone's) and its words', in one model call."""
        query_words = list(dict.fromkeys(words(query)))
        known = {w: v for w in query_words
                 if (v := self._word_vectors.get(w)) is not None or (v := self._question_words.get(w)) is not None}
        new_words = [w for w in query_words if w not in known]
        heads = [self._without_common_words(query)]
        if alone and self.settings.follow_up_weight > 0:
            heads.append(self._without_common_words(self.index.names.normalize(alone)))
        if self.word_embedder is self.embedder:  # one model call for the question(s) and its unseen words
            embedded = self.embed([*heads, *new_words])
            own, fresh_vectors = embedded[:len(heads)], embedded[len(heads):]
        else:
            own = self.embed(heads)
            with self._lock:
                fresh_vectors = self.word_embedder.embed_batch(new_words, "query")
        vector = blend(own[1], own[0], self.settings.follow_up_weight) if len(heads) > 1 else own[0]
        fresh = dict(zip(new_words, fresh_vectors, strict=True))
        for word, word_vector in fresh.items():
            self._question_words.put(word, word_vector)
        return vector, {w: known[w] if w in known else fresh[w] for w in query_words}

    def _with_highlight(self, hit: Hit, vector: np.ndarray, best_score: float, asked: str) -> Hit:
        """The hit with its sentence closest to the question, if the passage is nearly as relevant as the best.

        e5's sentence similarities barely separate answering sentences from others (tuning split), so
        whether to highlight at all is decided by the passage's fused score; a sentence holding what the
        question asks for (a duration for "how long") is chosen before any sentence that does not.
        """
        if hit.score < best_score - self.settings.highlight_margin:
            return hit
        sentences = split_sentences(hit.chunk.text)
        typed = [i for i, s in enumerate(sentences) if asked in contained_types(s, self._names)] if asked else []
        best = self.dense.best_sentence(self._row[(hit.chunk.source, hit.chunk.start)], vector, typed)
        # The sentence rows were checked against the passages' sentences when the index was loaded.
        return hit if best is None else replace(hit, highlight=sentences[best])

    def _without_common_words(self, query: str) -> str:
        """Drop words found in most passages (the show's title): they pull every query to every passage."""
        kept = [w for w in query.split() if word_key(w) not in self._common]
        return " ".join(kept) if kept else query

    def _search_language(self, query: Query, lang: str, dense: Dense, k: int, boost: dict[str, float] | None = None,
                         anchor: Hit | None = None) -> Found:
        """The top k hits of one language: the fusion's candidates, reordered by the learned ranker.

        boost: extra BM25 terms (the entity pass). anchor: the other languages' best hit, whose closeness is
        the ranker's support feature.
        """
        found = self.fusion.candidates(query, lang, dense, boost)
        lo = self.ranges[lang][0]
        if self.ranker is None:
            order, chance = np.argsort(-found.fused, kind="stable"), np.zeros(len(found.rows))
        else:
            support = None
            if anchor is not None:
                anchor_vector = self.dense.vector(self._row[(anchor.chunk.source, anchor.chunk.start)])
                near = self.dense.passage(lo + found.rows, anchor_vector)
                support = near - near.mean()
            matrix = ranker_features(found, lo, self.kinds, query.asked, support)
            order, chance = self.ranker.order(matrix, found.fused)
        hits = [Hit(self.index.chunks[lo + int(found.rows[i])], float(found.fused[i]), float(found.dense[i]),
                    float(found.lexical[i]), chance=float(chance[i]))
                for i in order[:k]]  # every one of the top k: the confidence judges, it does not cut
        top = float(found.fused.max(initial=-np.inf))
        return Found(hits, found.evidence, top if top >= self.settings.min_score else None)
