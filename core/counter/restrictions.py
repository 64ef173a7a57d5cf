"""Product restrictions as catalog data: minimum age, pregnancy and breastfeeding category, interactions.

The CSV columns (all optional, so an old catalog still imports):

- ``min_age`` / ``idade_minima``: ``0``, ``6 meses``, ``2 anos``, ``12`` (years), ``adulto`` (12 years);
  stored in months. Empty: read from the warnings ("acima de 2 anos", "menores de 6 anos", "uso
  adulto"), else unknown.
- ``pregnancy`` / ``gravidez`` and ``breastfeeding`` / ``amamentacao``: ``seguro`` (compatible),
  ``cautela`` (only with medical advice: never suggested at the counter) or ``contraindicado``; the
  FDA letters are accepted (A/B seguro, C cautela, D/X contraindicado). Empty: unknown, and the
  ``contraindications`` list (``gravidez``, ``amamentação``) decides as before.
- ``interactions`` / ``interacoes``: active ingredients or classes the product must not be combined
  with (``varfarina``, ``anticoagulante``, ``IMAO``...), matched against what the patient takes.
"""

from __future__ import annotations

import re
from typing import Literal

from core.counter.text import strip_accents

Category = Literal["seguro", "cautela", "contraindicado"]
ADULT_MONTHS = 12 * 12  # "uso adulto" in Brazilian package inserts means 12 years and over
MAX_AGE_MONTHS = 100 * 12
_CATEGORIES: dict[str, Category] = {
    "seguro": "seguro", "compativel": "seguro", "permitido": "seguro", "sim": "seguro", "a": "seguro", "b": "seguro",
    "cautela": "cautela", "evitar": "cautela", "orientacao medica": "cautela", "c": "cautela",
    "contraindicado": "contraindicado", "proibido": "contraindicado", "nao": "contraindicado", "d": "contraindicado",
    "x": "contraindicado",
}  # fmt: skip
_AGE_VALUE = re.compile(r"^(\d{1,3}(?:[.,]\d+)?)\s*(anos?|a|meses|mes|m|semanas?)?$")
# Warnings as package inserts write them: "Acima de 2 anos", "Não usar em menores de 6 anos".
_WARNING_AGE = re.compile(r"(?:acima de|maiores de|a partir de|menores de|abaixo de)\s+(\d{1,2})\s+(anos?|meses|mes)")
_WARNING_ADULT = re.compile(r"\buso adulto\b(?! e pediatrico)")


def parse_min_age(value: str) -> int | None:
    """Months, or None for an empty cell. Raises ``ValueError`` for text that is not an age."""
    text = strip_accents(value.strip().lower())
    if not text:
        return None
    if text in ("adulto", "uso adulto", "adultos"):
        return ADULT_MONTHS
    found = _AGE_VALUE.match(text)
    if not found:
        raise ValueError(f"not an age: {value[:40]!r} (e.g. 0, 6 meses, 2 anos, adulto)")
    number = float(found.group(1).replace(",", "."))
    unit = found.group(2) or "anos"
    months = number if unit.startswith("m") else number / 4.345 if unit.startswith("s") else number * 12
    if months > MAX_AGE_MONTHS:
        raise ValueError(f"age above {MAX_AGE_MONTHS // 12} years: {value[:40]!r}")
    return round(months)


def min_age_from_warnings(warnings: str) -> int | None:
    """The minimum age a warning text states, for catalogs without the ``min_age`` column."""
    text = strip_accents(warnings.lower())
    ages = [int(n) * (1 if u.startswith("mes") else 12) for n, u in _WARNING_AGE.findall(text)]
    if _WARNING_ADULT.search(text):
        ages.append(ADULT_MONTHS)
    return max(ages) if ages else None


def parse_category(value: str) -> Category | None:
    """``seguro``/``cautela``/``contraindicado`` (or None for empty); raises ``ValueError`` otherwise."""
    text = strip_accents(value.strip().lower())
    if not text:
        return None
    if text not in _CATEGORIES:
        raise ValueError("expected seguro, cautela or contraindicado (or A, B, C, D, X)")
    return _CATEGORIES[text]


def describe_age(months: int) -> str:
    if months >= 24 or (months % 12 == 0 and months):
        years = months / 12
        return f"{years:g} anos" if years != 1 else "1 ano"
    return f"{months} meses" if months != 1 else "1 mês"
