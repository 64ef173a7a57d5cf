"""The one safety filter: each rule, and the assistant's final gate after any recommender."""

from __future__ import annotations

import dataclasses

import pytest

from agents.counter.assistant import CounterAssistant
from agents.counter.recommender import LocalRecommender, Recommendation, RecommendContext, Recommender
from agents.counter.safety import Patient, unsafe_reason
from core.counter.catalog import CatalogIndex, IndexedProduct, parse_csv
from core.counter.restrictions import min_age_from_warnings, parse_category, parse_min_age
from tests.counter.helpers import say


def item(index: CatalogIndex, name: str) -> IndexedProduct:
    return next(i for i in index.items if i.product.name == name)


@pytest.mark.parametrize(
    ("product", "patient", "reason"),
    [
        ("Amoxicilina 500 mg", Patient(frozenset()), "exige receita"),
        ("Dipirona 500 mg", Patient(frozenset({"alergia:dipirona"})), "alergia a dipirona"),
        ("Paracetamol 750 mg", Patient(frozenset({"crianca"}), age_months=24), "idade mínima 12 anos"),
        ("Paracetamol 750 mg", Patient(frozenset({"crianca"})), "uso adulto e idade da criança não informada"),
        ("Acetilcisteína xarope infantil 20 mg/mL", Patient(frozenset({"crianca"}), baby=True), "idade mínima"),
        ("Pomada de salicilato de metila e mentol", Patient(frozenset({"gravidez"})), "gravidez (cautela)"),
        ("Loratadina 10 mg", Patient(frozenset({"amamentacao"})), "amamentação (contraindicado)"),
        ("Ibuprofeno 400 mg", Patient(frozenset({"dengue"})), "suspeita de dengue"),
        ("Pomada de salicilato de metila e mentol", Patient(frozenset(), medicines=frozenset({"varfarina"})), "inter"),
        ("Loperamida 2 mg", Patient(frozenset(), needs=frozenset({"febre"})), "febre"),
    ],
)
def test_each_rule(index: CatalogIndex, product: str, patient: Patient, reason: str) -> None:
    found = unsafe_reason(item(index, product), patient)
    assert found is not None and found.startswith(reason), found


@pytest.mark.parametrize(
    ("product", "patient"),
    [
        ("Paracetamol gotas infantil 200 mg/mL", Patient(frozenset({"crianca"}), age_months=24)),
        ("Paracetamol 750 mg", Patient(frozenset(), age_months=13 * 12)),
        ("Paracetamol 750 mg", Patient(frozenset({"gravidez", "anticoagulante"}), medicines=frozenset({"varfarina"}))),
        ("Dropropizina xarope pediátrico 15 mg/5 mL", Patient(frozenset({"crianca"}))),  # age to confirm
        ("Sais para reidratação oral", Patient(frozenset({"crianca"}), age_months=0, baby=True)),
    ],
)
def test_what_stays_allowed(index: CatalogIndex, product: str, patient: Patient) -> None:
    assert unsafe_reason(item(index, product), patient) is None


def test_interaction_classes_cover_their_members(index: CatalogIndex) -> None:
    ibu = item(index, "Ibuprofeno 400 mg")
    assert {"anticoagulante", "varfarina", "rivaroxabana", "litio"} <= ibu.interactions


def test_restriction_values() -> None:
    assert parse_min_age("6 meses") == 6 and parse_min_age("2 anos") == 24 and parse_min_age("adulto") == 144
    assert parse_min_age("12") == 144 and parse_min_age("") is None
    with pytest.raises(ValueError):
        parse_min_age("dois anos")
    assert parse_category("B") == "seguro" and parse_category("X") == "contraindicado" and parse_category("") is None
    assert min_age_from_warnings("Não usar em menores de 6 anos.") == 72
    assert min_age_from_warnings("Uso adulto.") == 144 and min_age_from_warnings("Dose por peso.") is None


def test_an_old_catalog_gets_ages_from_its_warnings() -> None:
    rows, errors = parse_csv("name,indications,warnings\nXarope Y,tosse,Uso adulto. Tomar com água.\n")
    assert errors == []
    index = CatalogIndex([p for _line, p in rows])
    assert index.items[0].min_age_months == 144
    assert unsafe_reason(index.items[0], Patient(frozenset({"crianca"}))) is not None


class _Reckless(Recommender):
    """A recommender with a bug: it always suggests the named product, safe or not."""

    def __init__(self, index: CatalogIndex, name: str) -> None:
        self.index, self.name = index, name

    async def recommend(self, ctx: RecommendContext) -> Recommendation | None:
        if not ctx.delta.changed:
            return None
        chosen = item(self.index, self.name)
        return Recommendation(chosen.product, "bug", "…", ("febre",), "local")


async def test_final_gate_stops_any_recommender(index: CatalogIndex) -> None:
    assistant = CounterAssistant(index, _Reckless(index, "Paracetamol 750 mg"))
    out = await say(assistant, ("cliente", "Minha netinha tá com febre, ela tem dois aninhos."))
    assert out == [] and assistant.blocked == 1
    # The same recommender for an adult passes the gate.
    adult = CounterAssistant(index, _Reckless(index, "Paracetamol 750 mg"))
    assert len(await say(adult, ("cliente", "Tô com febre."))) == 1 and adult.blocked == 0


async def test_ranker_never_offers_unsafe(index: CatalogIndex) -> None:
    local = LocalRecommender(index)
    assistant = CounterAssistant(index, local)
    await say(assistant, ("cliente", "Minha mãe toma Marevan e tá com dor nas costas."))
    ctx = RecommendContext(assistant.state, dataclasses.replace(assistant.last_delta))
    ranked = local.rank(ctx)
    assert ranked and all(unsafe_reason(c.item, Patient.of(assistant.state)) is None for c in ranked)
    names = {c.item.product.name for c in ranked}
    assert "Pomada de salicilato de metila e mentol" not in names and "Ibuprofeno 400 mg" not in names
