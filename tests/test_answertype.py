"""Answer types: what a question asks for and what a passage contains, in both languages, by readable rules."""

from __future__ import annotations

import pytest

from rag.search.answertype import TYPES, asked_type, contained_types


@pytest.mark.parametrize(("question", "expected"), [
    ("How long is each episode?", "duration"), ("Wie lange dauert eine Folge?", "duration"),
    ("wie lang geht eine folge", "duration"), ("What's the runtime per episode?", "duration"),
    ("How tall is Han So-hee?", "measure"), ("Wie alt ist Han So-hee?", "measure"),
    ("What does Disney+ cost in Germany?", "measure"), ("Was kostet Disney+ im Monat?", "measure"),
    ("How many episodes are there?", "count"), ("Wie viele Folgen hat die Serie?", "count"),
    ("When did it come out?", "date"), ("Aus welchem Jahr ist die Serie?", "date"),
    ("Was it released in 2021 or 2022?", "date"),
    ("Where can I watch Soundtrack #1?", "platform"), ("Wo kann man die Serie streamen?", "platform"),
    ("Which songs are on the OST?", "song"), ("Wer singt „Wanna Be Your Lover“?", "song"),
    ("What did Han So-hee say about filming?", "quote"), ("Gibt es bekannte Zitate?", "quote"),
    ("What other dramas has Han So-hee been in?", "title"), ("In welchen anderen Serien war sie?", "title"),
    ("Who wrote the script?", "person"), ("Wer hat Regie geführt?", "person"),
    ("Welcher Schauspieler spielt den Komponisten?", "person"),
    ("What is the show about?", ""), ("Worum geht es?", ""), ("kann mir wer kurz die handlung erklären", ""),
    ("Kurz gesagt: was für eine Serie ist das?", ""),
    # French and Spanish questions: their profiles' cues (rag.profiles), joined with the others
    ("Combien d'épisodes compte la série ?", "count"), ("Combien de temps dure un épisode ?", "duration"),
    ("Qui a réalisé la série ?", "person"), ("¿Cuánto dura un episodio?", "duration"),
    ("¿Quién dirigió la serie?", "person"), ("¿Cuándo se estrenó?", "date"),
])
def test_a_question_asks_for_one_type(question: str, expected: str) -> None:
    assert asked_type(question) == expected
    assert expected in TYPES or expected == ""


@pytest.mark.parametrize(("text", "has", "lacks"), [
    ("Laufzeit: Ungefähr 40 Minuten pro Episode", {"duration", "count"}, {"platform", "person"}),
    ("Each episode lasts about forty minutes.", {"duration"}, {"date"}),
    ("Verfügbar auf: Disney+", {"platform"}, {"duration", "measure"}),
    ("Jahr: 2022", {"date", "count"}, {"platform"}),
    ("Die Single „Wanna Be Your Lover“ singt Kyuhyun.", {"song", "quote"}, {"measure"}),
    ("Han So-hee (Lee Eun-soo) ist eine Texterin.", {"person", "song"}, {"date"}),
    ("Lee Eun Soo ( Han So-Hee- ‘ The World Of The Married’, ‘ Nevertheless’)", {"title"}, {"platform"}),
    ("The tickets cost $12 each and she is 172 cm tall.", {"measure"}, set()),
    ("The narrative focuses upon two close friends.", {"count"}, {"duration", "measure", "platform"}),
])
def test_a_passage_contains_types(text: str, has: set[str], lacks: set[str]) -> None:
    found = contained_types(text, names=["Han So-hee", "Lee Eun-soo"])
    assert has <= found and not (lacks & found), found


def test_a_person_is_one_of_the_names_given() -> None:
    assert "person" not in contained_types("Han So-hee plays the lead.")
    assert "person" in contained_types("Han So-hee plays the lead.", names=["Han So-hee"])
