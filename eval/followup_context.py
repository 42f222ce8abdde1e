"""EXPERIMENT (reverted in the next commit): follow-ups searched with weighted context vs one joined text.

Run: python eval/followup_context.py tune
"""
import os, sys, json
os.environ["HF_HUB_OFFLINE"]="1"
from rag.assistant import Assistant
from rag.config import Settings
from rag.evaluation import CONVERSATIONS, evaluate, load_set
from rag.index import load_index
from rag.embedding import load_embedder
from rag.conversation import resolve
import rag.assistant as A
split = sys.argv[1] if len(sys.argv) > 1 else "tune"
turns = [t for t in load_set(CONVERSATIONS) if t.split == split]
index = load_index(Settings.from_env().index_dir); emb = load_embedder("e5-small")
def run(label, settings, old=False):
    a = Assistant(index, emb, settings)
    if old:
        orig = a.retriever.search
        def ask(q, history=None):
            q2 = resolve(q, history or [], a.retriever.leans_on_context)
            return a.ask(q2, k=3)
    else:
        def ask(q, history=None):
            ctx = ""
            for earlier in history or []:
                ctx = f"{earlier} {ctx}".strip() if ctx and a.retriever.leans_on_context(earlier) else earlier
            ctx = ctx if ctx and a.retriever.leans_on_context(q) else ""
            from rag.answer import compose
            from rag.language import detect_among
            lang = detect_among(q, a.retriever.languages, default="en")
            return compose(q, lang, a.retriever.search(q, 3, None, lang=lang, context=ctx))
    r = evaluate(ask, turns, group=lambda i: i.category)
    for g in ("follow-up", "switch"):
        d = r[g]["directions"]
        print(label, g, " ".join(f"{k}:{v['hit@1']:.2f}/{v['hit@3']:.2f}" for k, v in d.items()),
              "mean3=%.3f" % (sum(v['hit@3'] for v in d.values())/4), "mean1=%.3f" % (sum(v['hit@1'] for v in d.values())/4))
base = Settings.from_env()
run("old-concat", base, old=True)
for w in (0.3, 0.5, 0.8, 1.0):
    run(f"ctx={w}", base.with_(context_weight=w))
