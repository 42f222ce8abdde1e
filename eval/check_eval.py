"""Check eval/qa.jsonl: fields, unique ids, gold strings present in their sources. Stdlib only.

gold.en / gold.de: null, a string, or a non-empty list of alternative strings.
"""
import json, sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / "eval" / "qa.jsonl"
NAMES = {"en": ["soundtrack1_review_en.txt", "001_9a29036fea94464c.txt"],
         "de": ["soundtrack1_article_de.txt", "000_aae43807f29823e7.txt"]}
CATS = {"cast", "roles", "crew", "facts", "plot", "episodes", "reception", "criticism",
        "music", "production/visuals", "trivia", "off_topic"}
collapse = lambda s: " ".join(s.split())

def source(lang):
    for d in (ROOT / "corpus", Path("/work/shared/seeds")):
        for n in NAMES[lang]:
            if (d / n).is_file():
                return collapse((d / n).read_text(encoding="utf-8"))
    sys.exit(f"no {lang} source found")

src, errs, ids, per = {l: source(l) for l in NAMES}, [], set(), Counter()
kinds, multi = Counter(), Counter()
for n, line in enumerate(QA.read_text(encoding="utf-8").splitlines(), 1):
    try:
        r = json.loads(line)
        rid, g = r["id"], r["gold"]
        assert r["split"] in ("tune", "test") and r["category"] in CATS, "bad split/category"
        assert all(isinstance(r[k], str) and r[k].strip() for k in ("en", "de")), "empty question"
        assert set(g) == {"en", "de"}, "gold needs en and de"
    except (ValueError, KeyError, AssertionError, TypeError) as e:
        errs.append(f"line {n}: {e!r}"); continue
    if rid in ids: errs.append(f"{rid}: duplicate id")
    ids.add(rid)
    off = r["category"] == "off_topic"
    if off != rid.startswith("o") or off != (g["en"] is None and g["de"] is None):
        errs.append(f"{rid}: id prefix / off_topic / null gold disagree")
    for l in ("en", "de"):
        # gold.<lang>: null, one string, or a non-empty list of alternative strings
        # (a passage is correct when it contains ANY of them); every alternative must be in the source.
        alts = g[l]
        if alts is None:
            continue
        if isinstance(alts, str):
            alts = [alts]
        elif isinstance(alts, list) and len(alts) > 1:
            multi[l] += 1
        if not isinstance(alts, list) or not alts:
            errs.append(f"{rid}: gold.{l} must be null, a string or a non-empty list: {g[l]!r}"); continue
        for a in alts:
            if not isinstance(a, str) or not a.strip():
                errs.append(f"{rid}: gold.{l} alternative is not a non-empty string: {a!r}")
            elif collapse(a) not in src[l]:
                errs.append(f"{rid}: gold.{l} not in source: {a!r}")
        texts = [collapse(a) for a in alts if isinstance(a, str)]
        if len(set(texts)) != len(texts):
            errs.append(f"{rid}: gold.{l} has duplicate alternatives")
    per[(r["split"], r["category"])] += 1
    kinds["off_topic" if off else "both" if g["en"] and g["de"] else "en_only" if g["en"] else "de_only"] += 1
for cat in sorted({c for _, c in per}):
    print(f"{cat:20} tune={per[('tune', cat)]:3} test={per[('test', cat)]:3}")
print("split:", dict(Counter(s for s, _ in per.elements())), "kinds:", dict(kinds), "total:", sum(kinds.values()))
print("questions with several gold alternatives:", {l: multi[l] for l in NAMES})
print("\n".join(errs) or "OK")
sys.exit(1 if errs else 0)
