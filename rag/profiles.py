"""Language profiles: everything language-specific, one profile per language, registered in one place.

A language the corpus holds but nobody wrote a profile for still works: `profile()` gives it the default
(English sentences, no stemmer, its code as its name), so its passages are ranked by the model alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT = "en"  # the language of messages when a question's language has no sentences of its own


@dataclass(frozen=True)
class LanguageProfile:
    """One language: its names, stemmer, stop words and the sentences the assistant says in it."""

    code: str  # ISO 639-1, as py3langid reports it
    name: str  # in its own language, for headings ("Deutsch")
    names: dict[str, str]  # how a sentence in this language names each language ("German")
    source: dict[str, str]  # "the {source} source": the adjective per language ("deutsche")
    other_source: str  # … for a language with no entry: never its code in a sentence
    stemmer: str | None  # Snowball's name for it, or None: words are matched as they are
    stopwords: frozenset[str]
    capitals_mark_names: bool  # False where every noun is capitalised (German)
    nothing_found: str  # the whole answer of an off-topic question
    side_says_nothing: str  # one language's side when it has no passage ({source})
    side_only_related: str  # … when its passages hold no sentence close to the question ({source}, {refs})
    maybe: str  # a side labelled related, quoted ({sentence}, {n})
    only_elsewhere: str  # only languages the user did not choose answer ({shown}, {hidden})
    no_passage: str  # the page's column of a language with nothing
    # Answer-type cues (rag.search.answertype joins every profile's): what a question asking for each type
    # says (type → regular expression), and the words a passage's answer is written with (unit, number,
    # month, song, quote: the things counted, spelled numbers, month names, music words, verbs of saying).
    asks: dict[str, str] = field(default_factory=dict)
    says: dict[str, str] = field(default_factory=dict)
    # Other cues, joined over every profile where they are used: "opener" and "points_back" (a follow-up that
    # leans on the previous turn, rag.conversation), "chrome" and "ad" (site chrome and advertising, rag.cleaning).
    cues: dict[str, str] = field(default_factory=dict)

    def name_of(self, code: str) -> str:
        """How a sentence in this language names the language code."""
        return self.names.get(code, code)


_EN_STOP = """a an the and or but of to in on at for with by from as is are was were be been being it its this
that these those he she they them his her their who whom whose what which when where why how do does did done
has have had i you we me my your our not no so than then there here about into over also can could would should
will may might must any all some such very just more most much many"""
_DE_STOP = """der die das den dem des ein eine einer eines einem einen und oder aber von zu im in am an auf für mit
bei aus als ist sind war waren wird werden wurde wurden sein hat haben hatte es er sie ihr ihre ihren ihrem ihres
sich dass wer wen wem wessen was wann wo warum wie welche welcher welches welchen nicht kein keine auch noch nur
sehr so um über nach vor durch gibt gab man ich du wir mir mich"""
# French and Spanish function words are not stop words: the lexical scorer drops every profile's stop words from
# every language (questions cross languages), and theirs are English or German content words ("son", "plus",
# "Quelle"). Their passages keep BM25 with a stemmer; the model carries the rest.
_NONE: frozenset[str] = frozenset()

_EN_ASKS = {
    "duration": r"\bhow long\b|\bruntime\b|\brun ?time\b|\blength of\b",
    "measure": r"\bhow (?:tall|old|big|much|heavy|high)\b|\bwhat (?:does|do) .* cost\b|\bprice\b|\bbudget\b",
    "count": r"\bhow many\b|\bnumber of\b",
    "date": r"\bwhen\b|\bwhat year\b|\bwhich year\b|\breleased in\b|\b(?:19|20)\d\d\b.*\bor\b",
    "platform": r"\bwhere (?:can|do|could|to)\b.*\b(?:watch|stream|see)\b|\bwhich (?:platform|service|channel)\b"
                r"|\bstream(?:ing|ed)?\b",
    "song": r"\bsongs?\b|\bost\b|\btracks?\b|\bsings?\b|\bsinger\b|\bballads?\b|\bmusic\b",
    "quote": r"\bsay\b|\bsaid\b|\bsays\b|\bquotes?\b|\bline\b",
    "title": r"\bwhat (?:other )?(?:dramas|shows|series|films|movies)\b|\bwhich (?:dramas|shows|series|films)\b"
             r"|\bknown for\b|\bwhat else\b|\bbefore\b",
    "person": r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (?:actor|actress|singer|director|writer|character)\b",
}
_EN_SAYS = {
    "unit": r"minutes?|mins?|hours?|hrs?|weeks?|days?|years?|months?|episodes?",
    "number": r"one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|forty",
    "few": r"a few|several",
    "duration": r"\bruntime\b",
    "measure": r"years old",
    "month": r"january|february|march|april|may|june|july|august|september|october|november|december",
    "platform": r"\bstreaming\b",
    "song": r"songs?|ost|tracks?|sings?|sang|sung|singer|ballads?|soundtrack album|melody|lyric(?:s|ist)?",
    "quote": r"said|says|stated",
}
_DE_ASKS = {
    "duration": r"\bwie lange?\b|\blaufzeit\b|\bdauer",
    "measure": r"\bwie (?:groß|alt|schwer|hoch|teuer)\b|\bwas kostet\b|\bbudget\b",
    "count": r"\bwie viele?\b|\banzahl\b",
    "date": r"\bwann\b|\bwelche[ms]? jahr|\bin welchem jahr\b|\berscheinungsjahr\b|\b(?:19|20)\d\d\b.*\boder\b",
    "platform": r"\bwo (?:kann|läuft|gibt|sieht|schaut)\b|\bplattform\b|\banbieter\b|\bstreamen\b|\bsender\b",
    "song": r"\blieder?\b|\bsingt\b|\bsänger(?:in)?\b|\btitelsong\b|\bmusik\b",
    "quote": r"\bzitat|\bsagt\b|\bsagte\b",
    "title": r"\bwelche[n]? (?:anderen )?(?:serien|dramen|filme)\b|\bin welchen\b|\bwas .* sonst\b|\bvorher\b",
    "person": r"(?<!mir )\bwer\b|\bwem\b|\bwen\b|\bwessen\b|\bvon wem\b"
              r"|\bwelche[rs]? (?:schauspieler|darsteller|figur|regisseur|autor)",
}
_DE_SAYS = {
    "unit": r"minuten|stunden|wochen|tage[n]?|jahre[n]?|monate[n]?|folgen|episoden",
    "number": r"ein|eine[nm]?|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|zwölf|zwanzig|vierzig",
    "few": r"einige",
    "duration": r"\bdauer|\blaufzeit\b",
    "measure": r"jahre alt",
    "month": r"januar|februar|märz|mai|juni|juli|oktober|dezember",
    "platform": r"\bverfügbar\b",
    "song": r"lieder?|singt|sang|sänger(?:in)?|melodie|melodien|texte?rin",
    "quote": r"sagte|sagt|erklärte|meinte",
}
_EN_CUES = {
    "opener": r"and|also|but|so|what about|how about",
    "points_back": r"he|she|him|his|her|hers|it|its|they|them|their|this|that|these|those|there|each one|each|either",
    "chrome": r"comments?|post a comment|leave a (comment|reply)|reply|share|like|was this review helpful\??|read more"
              r"|advertisement|cookie.*|subscribe|newsletter",
    "ad": r"insurance|\bloans?\b|casino|\bcoupons?\b|promo ?code|compare .{0,40} online|sponsored|affiliate",
}
# German "es", "das" and "die" do not point back: they open many self-contained questions ("Gibt es …").
_DE_CUES = {
    "opener": r"und|auch|aber|also|was ist mit|wie ist es mit|wie steht es mit",
    "points_back": r"er|ihn|ihm|sein|seine|seinen|seinem|seiner|ihr|ihre|ihren|ihrem|ihrer|sie|dessen|deren|dort|"
                   r"jede|jeder|jedes|jeweils|davon|dabei|dazu|darin|damit|dafür|darüber|diese|dieser|dieses",
    "chrome": r"kommentare?|kommentar veröffentlichen|antworten|teilen|gefällt mir|weiterlesen|anzeige|werbung",
    "ad": r"versicherung|\bkredite?\b|gutschein|online vergleichen|gesponsert",
}
_FR_ASKS = {"duration": r"\bcombien de temps\b|\bdurée\b", "count": r"\bcombien\b", "date": r"\bquand\b",
            "person": r"\bqui\b"}
_ES_ASKS = {"duration": r"\bcuánto dura\b|\bduración\b", "count": r"\bcuántos\b|\bcuántas\b",
            "date": r"\bcuándo\b", "person": r"\bquién(?:es)?\b"}

PROFILES: dict[str, LanguageProfile] = {p.code: p for p in (
    LanguageProfile(
        "en", "English", {"en": "English", "de": "German", "fr": "French", "es": "Spanish"},
        {"en": "English", "de": "German", "fr": "French", "es": "Spanish"}, "other", "english",
        frozenset(_EN_STOP.split()), True,
        "I found nothing about this in the sources.",
        "The {source} source says nothing about this.",
        "The {source} source has related passages {refs}, but no sentence that answers it directly.",
        "Possibly: {sentence} [{n}]",
        "No {shown} passage answers this, but the {hidden} sources do: add {hidden} to the languages shown.",
        "No relevant English passage.", asks=_EN_ASKS, says=_EN_SAYS,
        cues=_EN_CUES),
    LanguageProfile(
        "de", "Deutsch", {"en": "Englisch", "de": "Deutsch", "fr": "Französisch", "es": "Spanisch"},
        {"en": "englische", "de": "deutsche", "fr": "französische", "es": "spanische"}, "andere", "german",
        frozenset(_DE_STOP.split()), False,
        "Dazu habe ich in den Quellen nichts gefunden.",
        "Die {source} Quelle sagt dazu nichts.",
        "Die {source} Quelle hat verwandte Passagen {refs}, aber keinen Satz, der direkt antwortet.",
        "Möglicherweise: {sentence} [{n}]",
        "Keine Textstelle auf {shown} beantwortet das, aber die Quellen auf {hidden}: wählen Sie auch {hidden} aus.",
        "Keine passende deutsche Textstelle.", asks=_DE_ASKS, says=_DE_SAYS,
        cues=_DE_CUES),
    LanguageProfile(
        "fr", "Français", {"en": "anglais", "de": "allemand", "fr": "français", "es": "espagnol"},
        {"en": "anglaise", "de": "allemande", "fr": "française", "es": "espagnole"}, "autre", "french",
        _NONE, True,
        "Je n'ai rien trouvé à ce sujet dans les sources.",
        "La source {source} n'en dit rien.",
        "La source {source} a des passages liés {refs}, mais aucune phrase qui y réponde directement.",
        "Peut-être : {sentence} [{n}]",
        "Aucun passage en {shown} n'y répond, mais les sources en {hidden} oui : ajoutez {hidden} aux langues.",
        "Aucun passage français pertinent.", asks=_FR_ASKS),
    LanguageProfile(
        "es", "Español", {"en": "inglés", "de": "alemán", "fr": "francés", "es": "español"},
        {"en": "inglesa", "de": "alemana", "fr": "francesa", "es": "española"}, "otra", "spanish",
        _NONE, True,
        "No encontré nada sobre esto en las fuentes.",
        "La fuente {source} no dice nada sobre esto.",
        "La fuente {source} tiene pasajes relacionados {refs}, pero ninguna frase que responda directamente.",
        "Quizás: {sentence} [{n}]",
        "Ningún pasaje en {shown} responde, pero las fuentes en {hidden} sí: añada {hidden} a los idiomas.",
        "Ningún pasaje relevante en español.", asks=_ES_ASKS),
)}


def joined(table: str, key: str) -> str:
    """Every profile's regular expression for key in table ("asks", "says" or "cues"), as one alternation."""
    return "|".join(part for p in PROFILES.values() if (part := getattr(p, table).get(key)))


def profile(code: str) -> LanguageProfile:
    """The profile of a language code; an unknown language gets the default's sentences, its code as name,
    and no stemmer (its words are matched as written, its passages ranked by the model)."""
    found = PROFILES.get(code)
    if found is not None:
        return found
    base = PROFILES[DEFAULT]
    return LanguageProfile(code, code, base.names, base.source, base.other_source, None, frozenset(), True,
                           base.nothing_found, base.side_says_nothing, base.side_only_related, base.maybe,
                           base.only_elsewhere, f"No relevant passage in {code}.")


def speaks(code: str) -> LanguageProfile:
    """The profile whose sentences answer a question in code: its own if it has one, else the default's."""
    return PROFILES.get(code) or PROFILES[DEFAULT]
