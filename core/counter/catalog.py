"""Products, the catalog CSV format, and the index the recommenders match conversations against.

One CSV format serves the shipped sample (``data/catalog_sample.csv``) and ``POST /catalog/import``.
List fields are separated by ``|``. Headers may be English or Portuguese (see ``HEADER_ALIASES``).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.counter.lexicon import CONDITIONS, IMPLIES, INGREDIENT_ALIASES, INGREDIENT_CLASSES, NEEDS
from core.counter.medicines import CLASS_PHRASES, MEDICINE_CLASSES, MEDICINES
from core.counter.patient import BABY_WORDS, CHILD_WORDS, ELDERLY_WORDS, TENS, THIRD_WORDS, UNITS
from core.counter.restrictions import Category, min_age_from_warnings, parse_category, parse_min_age
from core.counter.spelling import SpellingRepair
from core.counter.text import BOUNDARY, PhraseMatcher, normalize, strip_accents, tokens

SAMPLE_CATALOG = Path(__file__).parent / "data" / "catalog_sample.csv"
FIELDS = (
    "sku", "name", "active_ingredients", "indications", "contraindications", "warnings",
    "prescription_required", "price", "tags", "min_age", "pregnancy", "breastfeeding", "interactions",
)  # fmt: skip
HEADER_ALIASES = {
    "codigo": "sku", "nome": "name", "produto": "name", "principios_ativos": "active_ingredients",
    "indicacoes": "indications", "contraindicacoes": "contraindications", "advertencias": "warnings",
    "exige_receita": "prescription_required", "receita": "prescription_required", "preco": "price",
    "idade_minima": "min_age", "gravidez": "pregnancy", "gestacao": "pregnancy", "amamentacao": "breastfeeding",
    "lactacao": "breastfeeding", "interacoes": "interactions",
}  # fmt: skip
_TRUE = frozenset({"sim", "s", "true", "1", "yes", "y", "x"})
_FALSE = frozenset({"nao", "n", "false", "0", "no", ""})
MAX_LIST_ITEMS = 50
MAX_TEXT = 500
# A contraindication or indication phrased as a known condition counts for less as a *need*: a
# customer saying "sou hipertenso" is telling us a risk, not asking for a blood-pressure drug.
CONDITION_AS_NEED_WEIGHT = 0.4


@dataclass(frozen=True)
class Product:
    """A catalog product. ``id`` is the database id, or the SKU for file catalogs."""

    id: str
    name: str
    active_ingredients: tuple[str, ...] = ()
    indications: tuple[str, ...] = ()
    contraindications: tuple[str, ...] = ()
    warnings: str = ""
    prescription_required: bool = False
    price: Decimal | None = None
    tags: tuple[str, ...] = ()
    sku: str | None = None
    # Restrictions as data (``core.counter.restrictions``); None means the catalog does not say.
    min_age_months: int | None = None
    pregnancy: Category | None = None
    breastfeeding: Category | None = None
    interactions: tuple[str, ...] = ()  # ingredients or classes it must not be combined with

    @property
    def pediatric(self) -> bool:
        return any(normalize(t) == "infantil" for t in self.tags)

    @property
    def for_children(self) -> bool:
        """A presentation meant for children too (drops, oral rehydration salts, saline)."""
        return self.pediatric or any(normalize(t) == "infantil e adulto" for t in self.tags)


@dataclass(frozen=True)
class RowError:
    line: int
    field: str | None
    message: str


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split("|") if part.strip())


def parse_row(row: dict[str, str], line: int, errors: list[RowError]) -> Product | None:
    """One CSV row (already keyed by canonical field names) as a product, or errors appended."""
    start = len(errors)
    name = row.get("name", "").strip()
    if not name:
        errors.append(RowError(line, "name", "name is required"))
    elif len(name) > 200:
        errors.append(RowError(line, "name", "name is longer than 200 characters"))
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("active_ingredients", "indications", "contraindications", "tags", "interactions"):
        items = _split(row.get(key, ""))
        if len(items) > MAX_LIST_ITEMS or any(len(i) > MAX_TEXT for i in items):
            errors.append(RowError(line, key, f"at most {MAX_LIST_ITEMS} items of {MAX_TEXT} characters"))
        lists[key] = items
    if not lists["indications"] and not lists["active_ingredients"]:
        errors.append(RowError(line, "indications", "a product needs indications or active ingredients"))
    flag = strip_accents(row.get("prescription_required", "").strip().lower())
    if flag not in _TRUE and flag not in _FALSE:
        errors.append(RowError(line, "prescription_required", "expected sim/não (or true/false)"))
    price: Decimal | None = None
    raw_price = row.get("price", "").strip().replace("R$", "").strip()
    if raw_price:
        try:
            price = Decimal(raw_price.replace(",", ".")) if raw_price.count(",") <= 1 else Decimal("nan")
        except InvalidOperation:
            price = Decimal("nan")
        if not price.is_finite() or price < 0 or price >= Decimal("1000000"):
            errors.append(RowError(line, "price", f"not a price: {raw_price[:40]!r}"))
            price = None
    warnings = row.get("warnings", "").strip()
    if len(warnings) > 2000:
        errors.append(RowError(line, "warnings", "warnings are longer than 2000 characters"))
    sku = row.get("sku", "").strip() or None
    min_age: int | None = None
    try:
        min_age = parse_min_age(row.get("min_age", ""))
    except ValueError as exc:
        errors.append(RowError(line, "min_age", str(exc)))
    categories: dict[str, Category | None] = {}
    for key in ("pregnancy", "breastfeeding"):
        try:
            categories[key] = parse_category(row.get(key, ""))
        except ValueError as exc:
            errors.append(RowError(line, key, str(exc)))
    if len(errors) > start:
        return None
    return Product(
        id=sku or normalize(name).replace(" ", "-"),
        name=name,
        active_ingredients=lists["active_ingredients"],
        indications=lists["indications"],
        contraindications=lists["contraindications"],
        warnings=warnings,
        prescription_required=flag in _TRUE,
        price=price,
        tags=lists["tags"],
        sku=sku,
        min_age_months=min_age,
        pregnancy=categories["pregnancy"],
        breastfeeding=categories["breastfeeding"],
        interactions=lists["interactions"],
    )


def parse_csv(text: str) -> tuple[list[tuple[int, Product]], list[RowError]]:
    """Every valid row with its line number, and an error per problem of the invalid ones."""
    errors: list[RowError] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(1, None, "the file is empty")]
    plain = [strip_accents(h.strip().lower()).replace(" ", "_") for h in header]
    keys = [HEADER_ALIASES.get(h, h) for h in plain]
    if "name" not in keys:
        return [], [RowError(1, None, "the header has no name (or nome) column")]
    unknown = sorted({k for k in keys if k not in FIELDS})
    if unknown:
        errors.append(RowError(1, None, f"unknown columns ignored: {', '.join(unknown)}"))
    products: list[tuple[int, Product]] = []
    seen: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            errors.append(RowError(line, None, f"expected {len(header)} columns, found {len(values)}"))
            continue
        product = parse_row(dict(zip(keys, values, strict=True)), line, errors)
        if product is None:
            continue
        key = normalize(product.name)
        if key in seen:
            errors.append(RowError(line, "name", f"duplicate of line {seen[key]}"))
            continue
        seen[key] = line
        products.append((line, product))
    return products, errors


def load_sample_catalog() -> list[Product]:
    products, errors = parse_csv(SAMPLE_CATALOG.read_text(encoding="utf-8"))
    if errors:
        raise ValueError(f"sample catalog is invalid: {errors[:3]}")
    return [p for _line, p in products]


def _ingredient_vocab(products: Iterable[Product]) -> dict[str, tuple[str, ...]]:
    vocab: dict[str, set[str]] = {}
    for canonical, aliases in INGREDIENT_ALIASES.items():
        vocab.setdefault(normalize(canonical), set()).update((canonical, *aliases))
    for p in products:
        for ing in p.active_ingredients:
            vocab.setdefault(normalize(ing), set()).add(ing)
    return {k: tuple(sorted(v)) for k, v in vocab.items()}


_PATIENT_WORDS = ("ano", "anos", "mes", "meses", "semana", "semanas", "dia", "dias", "nascido", "nascida", "recem",
                  "meio", "idade", "vida", "gravida", "gestante", "gravidez", "amamentando", "buchuda", "esperando",
                  "toma", "tomo", "usa", "alergico", "alergica", "alergia", "receita", "antibiotico")  # fmt: skip


def _vocabulary(products: Iterable[Product]) -> set[str]:
    """Every word of the counter vocabulary and the catalog: what speech-to-text repair aims at."""
    phrases: list[str] = [*_PATIENT_WORDS, *UNITS, *TENS, *CHILD_WORDS, *BABY_WORDS, *ELDERLY_WORDS, *THIRD_WORDS]
    for table in (NEEDS, CONDITIONS, INGREDIENT_ALIASES, MEDICINES, CLASS_PHRASES):
        for key, values in table.items():
            phrases.append(key)
            phrases.extend(values)
    for p in products:
        phrases.extend((*p.active_ingredients, *p.indications, *p.contraindications))
    words: set[str] = set()
    for phrase in phrases:
        words.update(strip_accents(phrase.lower()).replace("-", " ").split())
    return {w.strip(".,;:()") for w in words}


def _medicine_vocab() -> dict[str, tuple[str, ...]]:
    vocab: dict[str, tuple[str, ...]] = {normalize(k): (k, *v) for k, v in MEDICINES.items()}
    for cls, phrases in CLASS_PHRASES.items():
        vocab["classe:" + normalize(cls)] = phrases
    return vocab


@dataclass
class IndexedProduct:
    product: Product
    needs: dict[str, float]  # concept -> weight (1.0, or less for a condition named as an indication)
    contraindications: frozenset[str]  # condition concepts (or literal phrases)
    ingredients: frozenset[str]  # normalized ingredient keys, with the class keys they belong to
    matched_labels: dict[str, str] = field(default_factory=dict)  # concept -> the catalog's own words
    interactions: frozenset[str] = frozenset()  # normalized ingredient or class keys
    min_age_months: int | None = None  # the catalog's, else what the warnings say, else unknown


class CatalogIndex:
    """A catalog prepared for matching: concepts per product, concept rarity, phrase matchers.

    Indications the vocabulary does not know are matched literally (normalized), so an organization's
    own catalog works without touching ``lexicon``.
    """

    def __init__(self, products: Sequence[Product]) -> None:
        self.needs_matcher = PhraseMatcher(NEEDS)
        self.conditions_matcher = PhraseMatcher(CONDITIONS)
        self.ingredients_matcher = PhraseMatcher(_ingredient_vocab(products))
        self.medicines_matcher = PhraseMatcher(_medicine_vocab())
        self.repair = SpellingRepair(_vocabulary(products))
        self.items: list[IndexedProduct] = [self._index(p) for p in products]
        self.by_id = {item.product.id: item for item in self.items}
        # Inverted indexes: an utterance touches a handful of concepts, not the whole catalog.
        self.by_need: dict[str, list[IndexedProduct]] = {}
        self.by_ingredient: dict[str, list[IndexedProduct]] = {}
        for item in self.items:
            for concept in item.needs:
                self.by_need.setdefault(concept, []).append(item)
            for ingredient in item.ingredients:
                self.by_ingredient.setdefault(ingredient, []).append(item)
        df: dict[str, int] = {}
        for item in self.items:
            for concept in item.needs:
                df[concept] = df.get(concept, 0) + 1
        n = max(len(self.items), 1)
        # Rarer concepts say more about which product fits ("tosse seca" beats "tosse").
        self.weights = {c: 1.0 + 0.5 * math.log(n / d) for c, d in df.items()}

    def candidates(self, needs: Iterable[str], ingredients: Iterable[str]) -> list[IndexedProduct]:
        """Products treating any of ``needs`` or containing any of ``ingredients``, in catalog order."""
        seen: dict[int, IndexedProduct] = {}
        for concept in needs:
            for item in self.by_need.get(concept, ()):
                seen.setdefault(id(item), item)
        for ingredient in ingredients:
            for item in self.by_ingredient.get(ingredient, ()):
                seen.setdefault(id(item), item)
        return list(seen.values())

    def _concepts(self, phrase: str, matcher: PhraseMatcher) -> list[str]:
        toks = [t for t in tokens(phrase) if t != BOUNDARY]
        found = [m.concept for m in matcher.find(toks)]
        if found:
            return found
        literal = " ".join(toks)
        # Unknown phrase: make it matchable as said.
        matcher.add("lit:" + literal, literal)
        return ["lit:" + literal]

    def _index(self, p: Product) -> IndexedProduct:
        needs: dict[str, float] = {}
        labels: dict[str, str] = {}
        for phrase in p.indications:
            toks = [t for t in tokens(phrase) if t != BOUNDARY]
            as_need = [m.concept for m in self.needs_matcher.find(toks)]
            as_condition = [] if as_need else [m.concept for m in self.conditions_matcher.find(toks)]
            if as_need:
                as_need += [i for c in as_need for i in IMPLIES.get(c, ())]
                for c in as_need:
                    needs[c] = 1.0
                    labels.setdefault(c, phrase)
            elif as_condition:
                for c in as_condition:
                    needs.setdefault(c, CONDITION_AS_NEED_WEIGHT)
                    labels.setdefault(c, phrase)
            else:
                for c in self._concepts(phrase, self.needs_matcher):
                    needs[c] = 1.0
                    labels.setdefault(c, phrase)
        contra: set[str] = set()
        for phrase in p.contraindications:
            toks = [t for t in tokens(phrase) if t != BOUNDARY]
            # A symptom can rule a product out too (loperamide and fever): those are need concepts.
            symptoms = [] if self.conditions_matcher.find(toks) else [m.concept for m in self.needs_matcher.find(toks)]
            contra.update(symptoms or self._concepts(phrase, self.conditions_matcher))
        ingredients = {normalize(i) for i in p.active_ingredients}
        for cls, members in INGREDIENT_CLASSES.items():
            if ingredients & {normalize(m) for m in members}:
                ingredients.add(normalize(cls))
        interactions = {normalize(i) for i in p.interactions}
        # A class named in interactions covers its members: "anticoagulante" is varfarina too.
        for cls, members in MEDICINE_CLASSES.items():
            if normalize(cls) in interactions:
                interactions.update(normalize(m) for m in members)
        min_age = p.min_age_months if p.min_age_months is not None else min_age_from_warnings(p.warnings)
        return IndexedProduct(
            p, needs, frozenset(contra), frozenset(ingredients), labels, frozenset(interactions), min_age
        )
