"""Who the product is for, read from what is said: the subject, the age, pregnancy and breastfeeding.

Works on normalized tokens (``core.counter.text.tokens`` of the repaired text). Ages come in every
spoken form: digits or words ("2", "dois", "vinte e dois"), diminutives ("dois aninhos",
"mesinho"), halves ("um ano e meio", "dois anos e meio"), days and weeks of life ("quinze dias de
nascido"), "recém-nascido". A duration is not an age ("faz dois anos que tenho rinite", "há três
meses"), and months or weeks said about a pregnancy are the pregnancy's ("grávida de sete meses",
"tô esperando bebê, de sete meses", "30 semanas") unless a child is named in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.counter.restrictions import describe_age

Subject = Literal["falante", "crianca", "bebe", "idoso", "terceiro"]

# fmt: off
UNITS = {"um": 1, "uma": 1, "dois": 2, "dua": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6,
         "sete": 7, "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12, "treze": 13, "quatorze": 14,
         "catorze": 14, "quinze": 15, "dezesseis": 16, "dezessete": 17, "dezoito": 18, "dezenove": 19}
TENS = {"vinte": 20, "trinta": 30, "quarenta": 40, "cinquenta": 50, "sessenta": 60, "setenta": 70,
        "oitenta": 80, "noventa": 90, "cem": 100}
CHILD_WORDS = frozenset({"filho", "filha", "neto", "neta", "sobrinho", "sobrinha", "menino", "menina", "crianca",
                         "guri", "guria", "moleque", "garoto", "garota", "enteado", "enteada", "afilhado",
                         "afilhada", "pequeno", "pequena", "caçula", "cacula", "piá", "pia"})
BABY_WORDS = frozenset({"bebe", "nene", "nenem", "bichinho", "bichinha", "recem", "lactente", "baby"})
ELDERLY_WORDS = frozenset({"avo", "vovo", "vo", "idoso", "idosa", "veio", "velho", "velha", "velhinho",
                           "velhinha", "bisavo"})
THIRD_WORDS = frozenset({"pai", "mae", "marido", "esposa", "mulher", "esposo", "irmao", "irma", "tio", "tia",
                         "sogro", "sogra", "cunhado", "cunhada", "amigo", "amiga", "vizinho", "vizinha", "patrao",
                         "patroa", "chefe", "namorado", "namorada", "primo", "prima", "colega", "companheiro",
                         "companheira"})
POSSESSIVE = frozenset({"meu", "minha", "o", "a", "pro", "pra", "do", "da", "nosso", "nossa", "seu", "sua", "esse",
                        "essa", "ele", "ela"})
SPEAKER_CUES = frozenset({"eu", "to", "tenho", "sou", "mim", "tomo", "estou", "sinto", "fiquei", "acordei"})
_DURATION_BEFORE = frozenset({"faz", "ha", "durante", "desde", "daqui", "cada", "em", "ultimo", "ultima", "uns",
                              "umas", "por", "ja", "tomo", "toma"})
_PREGNANT_CUES = frozenset({"gravida", "gestante", "gravidez", "gestacao", "gravidinha", "buchuda", "embuchada",
                            "barriga", "esperando", "engravidei", "prenha"})
_COLLOQUIAL_PREGNANT = frozenset({"barriga", "buchuda", "embuchada", "prenha"})
_BIRTH_CUES = frozenset({"nasceu", "nascido", "nascida", "vida", "parto"})
# fmt: on
_UNIT_MONTHS = {"ano": 12.0, "mes": 1.0, "semana": 12 / 52, "dia": 12 / 365}


@dataclass(frozen=True, slots=True)
class Age:
    months: int
    text: str  # as said, normalized ("dois aninhos" -> "dois ano")


@dataclass(frozen=True, slots=True)
class PatientFindings:
    """What one utterance says about the patient."""

    subject: Subject | None = None
    relation: str | None = None  # the word said: "neta", "pai"
    age: Age | None = None
    gestation: str | None = None  # "7 meses", "30 semanas"
    pregnant: bool = False  # colloquial forms the condition vocabulary cannot express ("tô de barriga")


def parse_number(toks: list[str], i: int) -> tuple[float, int] | None:
    """The number starting at ``toks[i]`` and the index after it ("vinte e dois" -> 22)."""
    if i >= len(toks):
        return None
    tok = toks[i]
    if tok.isdigit() and len(tok) <= 3:
        return float(tok), i + 1
    if tok in UNITS:
        return float(UNITS[tok]), i + 1
    if tok in TENS:
        value = TENS[tok]
        if i + 2 < len(toks) and toks[i + 1] == "e" and toks[i + 2] in UNITS:
            return float(value + UNITS[toks[i + 2]]), i + 3
        return float(value), i + 1
    return None


def _unit(tok: str) -> str | None:
    for unit in ("ano", "mes", "semana", "dia"):
        if tok == unit or (tok.startswith(unit) and tok in (unit + "zinho", unit + "inho", unit + "inha")):
            return unit
    if tok in ("aninho", "anin", "anito", "mesinho", "semaninha", "diazinho", "year", "month", "week"):
        return {"aninho": "ano", "anin": "ano", "anito": "ano", "mesinho": "mes", "semaninha": "semana",
                "diazinho": "dia", "year": "ano", "month": "mes", "week": "semana"}[tok]  # fmt: skip
    return None


def find_age(toks: list[str], *, pregnant_at: int | None = None) -> tuple[Age | None, str | None]:
    """``(age, gestation)``: the first age said in ``toks``, and a pregnancy length if one was said."""
    gestation: str | None = None
    if ("recem" in toks and "nascido" in toks[toks.index("recem") :][:3]) or "recemnascido" in toks:
        return Age(0, "recem nascido"), None
    for i in range(len(toks)):
        half_only = toks[i] == "ano" and i + 2 < len(toks) and toks[i + 1] == "e" and toks[i + 2] == "meio"
        number = (1.0, i) if half_only else parse_number(toks, i)
        if number is None:
            continue
        value, j = number
        if j >= len(toks) or (unit := _unit(toks[j])) is None:
            continue
        end = j + 1
        months = value * _UNIT_MONTHS[unit]
        if end + 1 < len(toks) and toks[end] == "e" and toks[end + 1] == "meio":
            months += 0.5 * _UNIT_MONTHS[unit]
            end += 2
        elif unit == "ano" and end + 2 < len(toks) and toks[end] == "e":
            extra = parse_number(toks, end + 1)
            if extra is not None and extra[1] < len(toks) and _unit(toks[extra[1]]) == "mes":  # "um ano e dois meses"
                months += extra[0]
                end = extra[1] + 1
        before = toks[max(0, i - 2) : i]
        after = toks[end : end + 2]
        birth = bool(_BIRTH_CUES & set(toks[max(0, i - 3) : end + 3]))
        if not birth and (_DURATION_BEFORE & set(before) or after[:1] in (["que"], ["atras"], ["seguido"])):
            continue  # "faz dois anos que tenho rinite", "há três meses"
        text = " ".join(toks[i:end])
        if pregnant_at is not None and unit in ("mes", "semana") and not _child_between(toks, pregnant_at, i):
            gestation = gestation or text
            continue
        return Age(round(months), text), gestation
    return None, gestation


def _child_between(toks: list[str], a: int, b: int) -> bool:
    """A child named between the pregnancy and the age: "grávida, e meu filho de 3 meses..."."""
    lo, hi = sorted((a, b))
    for k in range(lo + 1, hi):
        if toks[k] in CHILD_WORDS:
            return True
        if toks[k] in BABY_WORDS and toks[k - 1] not in ("esperando", "um", "ter", "tive"):
            return True
    return False


def find_subject(toks: list[str]) -> tuple[Subject | None, str | None]:
    """Who the utterance is about: a relation word after a possessive, else the speaker's cues."""
    for k, tok in enumerate(toks):
        prev = toks[k - 1] if k else ""
        if prev == "esperando" or (prev == "um" and k > 1 and toks[k - 2] == "esperando"):
            continue  # "esperando (um) bebê" is a pregnancy
        if prev in ("tive", "ganhei", "ter"):
            continue
        if tok in BABY_WORDS or tok == "recem":
            return "bebe", tok
        if tok in CHILD_WORDS and (prev in POSSESSIVE or tok in ("crianca", "menino", "menina")):
            return "crianca", tok
        if tok in ELDERLY_WORDS and (prev in POSSESSIVE or tok in ("idoso", "idosa")):
            return "idoso", tok
        if tok in THIRD_WORDS and prev in POSSESSIVE - {"ele", "ela"}:
            return "terceiro", tok
    if SPEAKER_CUES & set(toks):
        return "falante", None
    return None, None


def _pregnant_belly(toks: list[str], k: int) -> bool:
    """ "tô de barriga", "barriga de cinco meses" - not "dor de barriga"."""
    if k > 1 and toks[k - 1] == "de" and toks[k - 2] in ("to", "ta", "tava", "fiquei", "esta"):
        return True
    number = parse_number(toks, k + 2) if k + 2 < len(toks) and toks[k + 1] == "de" else None
    return number is not None and number[1] < len(toks) and _unit(toks[number[1]]) in ("mes", "semana")


def _pregnancy_position(toks: list[str]) -> int | None:
    for k, tok in enumerate(toks):
        if tok not in _PREGNANT_CUES or (tok == "barriga" and not _pregnant_belly(toks, k)):
            continue
        if tok == "esperando" and not set(toks[k + 1 : k + 3]) & {"bebe", "nene", "nenem", "filho", "crianca"}:
            continue
        return k
    return None


def read_patient(toks: list[str], *, pregnant_context: bool = False) -> PatientFindings:
    """``pregnant_context``: a pregnancy is already known or was just asked about, so "de três meses"
    in the answer is its length unless a child is named before it."""
    pregnant_at = _pregnancy_position(toks)
    if pregnant_at is None and pregnant_context:
        pregnant_at = 0
    age, gestation = find_age(toks, pregnant_at=pregnant_at)
    subject, relation = find_subject(toks)
    colloquial = pregnant_at is not None and bool(toks) and toks[pregnant_at] in _COLLOQUIAL_PREGNANT
    if age is not None and subject is None:
        subject = "crianca" if age.months < 144 else None
    if age is not None and subject in ("crianca", "bebe", None) and age.months < 24:
        subject = "bebe"
    if age is not None and age.months >= 65 * 12:
        subject = "idoso"
    return PatientFindings(subject, relation, age, gestation, colloquial)


def age_phrase(months: int) -> str:
    return describe_age(months)


_SUBJECT_LABELS = {"falante": "o próprio cliente", "crianca": "criança", "bebe": "bebê", "idoso": "idoso",
                   "terceiro": "outra pessoa"}  # fmt: skip


@dataclass
class PatientContext:
    """What the conversation established about the patient (conditions live in the state's table)."""

    subject: Subject | None = None
    relation: str | None = None
    age: Age | None = None
    gestation: str | None = None
    medicines: dict[str, str] | None = None  # ingredient or class key -> the words said ("marevan")

    def update(self, found: PatientFindings) -> None:
        if found.subject is not None and not (found.subject == "falante" and self.subject not in (None, "falante")):
            # "tenho" in "ela tem 2 anos, e eu tenho medo" does not make the speaker the patient again.
            if found.subject != "falante" or found.age is not None:
                self.subject, self.relation = found.subject, found.relation or self.relation
            elif self.subject is None:
                self.subject = "falante"
        if found.relation and self.relation is None:
            self.relation = found.relation
        if found.age is not None:
            self.age = found.age
            if found.subject is None and self.subject in (None, "falante", "crianca", "bebe"):
                self.subject = "bebe" if found.age.months < 24 else "crianca" if found.age.months < 144 else None
        if found.gestation:
            self.gestation = found.gestation

    @property
    def age_months(self) -> int | None:
        return self.age.months if self.age is not None else None

    def describe(self, conditions: dict[str, int] | set[str], labels: dict[str, str]) -> str:
        """One line for the clerk: "Paciente: neta, 2 anos; grávida (7 meses); toma varfarina (marevan)"."""
        who: list[str] = []
        if self.relation:
            who.append(self.relation)
        elif self.subject:
            who.append(_SUBJECT_LABELS[self.subject])
        if self.age is not None:
            who.append(describe_age(self.age.months) if self.age.months else "recém-nascido")
        elif "crianca" in conditions:
            who.append("criança, idade não informada" if not who else "idade não informada")
        parts = [", ".join(who)] if who else []
        if "gravidez" in conditions:
            parts.append("gestante" + (f" ({self.gestation.replace('mes', 'meses').replace('semana', 'semanas')})"
                                       if self.gestation else ""))  # fmt: skip
        if "amamentacao" in conditions:
            parts.append("amamentando")
        allergies = sorted(c.removeprefix("alergia:") for c in conditions if c.startswith("alergia:"))
        if allergies:
            parts.append("alergia a " + ", ".join(allergies))
        if self.medicines:
            said = [k if v == k else f"{k} ({v})" for k, v in sorted(self.medicines.items())]
            parts.append("toma " + ", ".join(said))
        others = sorted(
            labels.get(c, c) for c in conditions
            if c not in ("crianca", "gravidez", "amamentacao") and not c.startswith("alergia:")
        )  # fmt: skip
        if others:
            parts.append(", ".join(others))
        return "Paciente: " + "; ".join(parts) + "." if parts else ""
