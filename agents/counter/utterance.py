"""One utterance read against the catalog's vocabularies: needs, conditions, medicines, the patient.

The text is first made matchable: English is translated phrase by phrase (``core.counter.english``),
speech-to-text damage is repaired (``core.counter.spelling``), then normalized into tokens. What it
finds keeps its negation ("não tenho febre") and the words it came from.

An ingredient or brand the customer names is one of four things, told apart by the words around it:
an allergy ("sou alérgico a dipirona", "novalgina me dá alergia"), a medicine the patient already
takes ("meu pai toma Marevan", "uso losartana"), a request ("tem novalgina?"), or a request for a
prescription-only product ("tem amoxicilina?", "um tarja preta"), which is answered with nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.counter.catalog import CatalogIndex
from core.counter.english import looks_english, translate
from core.counter.lexicon import INGREDIENT_CLASSES
from core.counter.medicines import CLASS_CONDITIONS, MEDICINE_CLASSES
from core.counter.patient import Age, PatientFindings, parse_number, read_patient
from core.counter.text import BOUNDARY, Match, normalize, tokens

_ALLERGY_CUES = frozenset({"alergico", "alergica", "alergia", "reacao", "intolerancia", "intolerante"})
_ALLERGY_AFTER = (("me", "da", "alergia"), ("da", "alergia"), ("me", "faz", "mal"), ("faz", "mal"))
_CANT_TAKE = (("nao", "posso", "tomar"), ("nao", "posso", "usar"), ("nao", "pode", "tomar"), ("nao", "tomo"))
_TAKES = frozenset({"tomo", "toma", "tomando", "uso", "usa", "usando", "tomou", "tomei", "aplica", "aplico",
                    "continuo", "tratamento"})  # fmt: skip
# Words that ask for a prescription-only product without naming one.
_RX_WORDS = (("antibiotico",), ("tarja", "preta"), ("receita", "azul"), ("remedio", "controlado"), ("controlado",))


@dataclass
class Reading:
    toks: list[str]
    needs: list[Match]
    conditions: dict[str, bool]  # concept -> negated
    requested: list[Match]  # ingredients asked for (not allergies, not taken)
    taken: dict[str, str] = field(default_factory=dict)  # ingredient or class key -> the words said
    rx_request: bool = False
    patient: PatientFindings = field(default_factory=PatientFindings)
    language: str = "pt"
    understood: bool = True  # false: English the phrase table does not cover


def _clause_before(toks: list[str], start: int, width: int) -> list[str]:
    before = toks[max(0, start - width) : start]
    if BOUNDARY in before:
        before = before[len(before) - before[::-1].index(BOUNDARY) :]
    return before


def _allergy_context(toks: list[str], m: Match) -> bool:
    before = _clause_before(toks, m.start, 4)
    if _ALLERGY_CUES & set(before):
        return True
    if any(tuple(before[k : k + len(c)]) == c for c in _CANT_TAKE for k in range(len(before))):
        return True
    after = toks[m.end : m.end + 3]
    return any(tuple(after[: len(c)]) == c for c in _ALLERGY_AFTER)


def _taken_context(toks: list[str], m: Match) -> bool:
    return bool(_TAKES & set(_clause_before(toks, m.start, 4))) or toks[m.end : m.end + 2] == ["todo", "dia"]


def allergy_keys(ingredient: str) -> set[str]:
    keys = {ingredient}
    for cls, members in INGREDIENT_CLASSES.items():
        if normalize(cls) == ingredient:
            keys.update(normalize(x) for x in members)
    return keys


def medicine_keys(key: str) -> set[str]:
    """An ingredient with the classes it belongs to, or a class with its members."""
    out = {key}
    for cls, members in MEDICINE_CLASSES.items():
        norm_cls = normalize(cls)
        norm_members = {normalize(x) for x in members}
        if key in norm_members:
            out.add(norm_cls)
        if key == norm_cls:
            out |= norm_members
    return out


def read_utterance(
    index: CatalogIndex, text: str, *, age_question: str | None = None, pregnant_context: bool = False
) -> Reading:
    """Everything ``text`` says; ``age_question`` is the unit the clerk just asked the age in, and
    ``pregnant_context`` says a pregnancy is known or was just asked about."""
    language = "en" if looks_english(text) else "pt"
    source = translate(text) if language == "en" else text
    toks = tokens(index.repair.repair(source))
    needs = index.needs_matcher.find(toks)
    conditions = index.conditions_matcher.find(toks)
    ingredients = index.ingredients_matcher.find(toks)
    medicines = index.medicines_matcher.find(toks)
    allergies = [m for m in ingredients + medicines if not m.negated and _allergy_context(toks, m)]
    # "sou alérgico a dipirona" states a risk, it is not a request for an antiallergic.
    needs = [n for n in needs if not (n.concept == "alergia" and any(0 <= a.start - n.end <= 2 for a in allergies))]
    needs = [n for n in needs if not (n.concept == "alergia" and any(0 <= n.start - a.end <= 2 for a in allergies))]
    # "tenho gastrite e dor de dente": a word that is both a need and a condition, said next to
    # another need, is the background (a risk), not what the customer came for.
    both = [n for n in needs if any(n.start < c.end and c.start < n.end for c in conditions)]
    if both and len(both) < len(needs):
        needs = [n for n in needs if n not in both]
    found = {m.concept: m.negated for m in conditions}
    for a in allergies:
        for key in allergy_keys(a.concept):
            found["alergia:" + key] = False
    taken: dict[str, str] = {}
    requested: list[Match] = []
    rx_request = False
    for m in ingredients:
        if m.negated or m in allergies:
            continue
        if _taken_context(toks, m):
            taken[m.concept] = " ".join(toks[m.start : m.end])
            continue
        requested.append(m)
        products = index.by_ingredient.get(m.concept, [])
        if products and all(p.product.prescription_required for p in products):
            rx_request = True
    for m in medicines:
        if m.negated or m in allergies:
            continue
        key = m.concept.removeprefix("classe:")
        said = " ".join(toks[m.start : m.end])
        taken[key] = said if said != key else key
        # Naming a prescription-only medicine outside "toma/uso" asks for it ("tem Marevan?").
        if not _taken_context(toks, m) and not m.concept.startswith("classe:"):
            rx_request = True
    for words in _RX_WORDS:
        n = len(words)
        for k in range(len(toks) - n + 1):
            asked = tuple(toks[k : k + n]) == words and not _taken_context(toks, Match("", k, k + n, False))
            if asked and "nao" not in _clause_before(toks, k, 3):
                rx_request = True
    for key in list(taken):
        for cls in medicine_keys(key):
            if cls in CLASS_CONDITIONS:
                found.setdefault(CLASS_CONDITIONS[cls], False)
    patient = read_patient(toks, pregnant_context=pregnant_context)
    if patient.age is None and age_question and toks:
        number = parse_number(toks, 0) or parse_number(toks, 1)
        if number is not None:
            # a bare "três" answering the clerk's "quantos anos?"
            months = number[0] * (12 if age_question == "ano" else 1)
            patient = PatientFindings(patient.subject, patient.relation, Age(round(months), toks[0]), None)
    if patient.age is not None:
        found["crianca"] = patient.age.months >= 144  # "negated" when the patient is 12 or older
    if patient.subject in ("crianca", "bebe") and patient.age is None:
        found.setdefault("crianca", False)
    if patient.gestation or patient.pregnant:
        found["gravidez"] = False
    understood = language == "pt" or bool(needs or found or taken or requested)
    return Reading(toks, needs, found, requested, taken, rx_request, patient, language, understood)
