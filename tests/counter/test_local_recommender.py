"""The local recommender: negation, who said it, contraindications, prescriptions, no repeats."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agents.counter.assistant import CounterAssistant
from agents.counter.conversation import Segment
from agents.counter.quality import evaluate, load_dialogues
from agents.counter.recommender import LocalRecommender
from core.counter.catalog import CatalogIndex
from core.counter.text import normalize, tokens
from tests.counter.helpers import products, say

HERE = Path(__file__).parent


def test_normalization_folds_accents_plurals_and_spoken_forms() -> None:
    assert normalize("Tô com DORES de cabeça pra caramba") == normalize("to com dor de cabeca para caramba")
    assert normalize("gases") == normalize("gás")
    assert tokens("febre, mas tosse")[1] == "|"


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("não tenho febre", True),
        ("tô sem febre", True),
        ("febre não", True),
        ("a febre já passou", True),
        ("não tenho tosse nem febre", True),
        ("tenho febre", False),
        ("uma febre que não passa", False),
        ("não tenho tosse, mas tenho febre", False),
        ("tosse sem parar e febre", False),
        ("febre ela não tem", True),
        ("febre que não tenho como medir", False),
    ],
)
def test_negation_scope(index: CatalogIndex, text: str, negated: bool) -> None:
    found = [m for m in index.needs_matcher.find(tokens(text)) if m.concept == "febre"]
    assert len(found) == 1
    assert found[0].negated is negated


async def test_colloquial_names_meet_catalog_terms(assistant: CounterAssistant) -> None:
    out = await say(assistant, ("cliente", "Minha cabeça tá explodindo desde cedo"))
    assert out and "dor de cabeça" in out[0].event["explicacao"]


async def test_negated_symptom_gets_no_product(assistant: CounterAssistant) -> None:
    out = await say(assistant, ("cliente", "Não tenho febre nem dor, só vim buscar o remédio da minha mãe"))
    assert out == []
    assert "febre" in assistant.state.denied


async def test_answer_to_clerk_question(assistant: CounterAssistant) -> None:
    """The clerk's question sets nothing; the customer's "não" denies it, "tenho" affirms it."""
    assert await say(assistant, ("atendente", "Está com febre?")) == []
    assert "febre" not in assistant.state.needs
    assert await say(assistant, ("cliente", "Não.")) == []
    assert "febre" in assistant.state.denied
    out = await say(assistant, ("atendente", "E dor no corpo?"), ("cliente", "Tenho, bastante."))
    assert products(out) and "dor no corpo" in out[0].event["explicacao"]


async def test_clerk_talking_about_products_triggers_nothing(assistant: CounterAssistant) -> None:
    out = await say(assistant, ("atendente", "Esse xarope é muito bom pra tosse com catarro, vende bastante."))
    assert out == []


@pytest.mark.parametrize(
    ("said", "forbidden_condition"),
    [
        ("Estou grávida e com dor de cabeça", "gravidez"),
        ("Sou hipertenso e tô gripado com o nariz entupido", "hipertensao"),
        ("É pro meu filho de 5 anos, ele tá com febre", "crianca"),
        ("Acho que é dengue, tô com febre e dor no corpo", "dengue"),
        ("Não sei se estou grávida, mas tô com uma dor de cabeça forte", "gravidez"),
    ],
)
async def test_contraindications_are_honoured(
    index: CatalogIndex, assistant: CounterAssistant, said: str, forbidden_condition: str
) -> None:
    out = await say(assistant, ("cliente", said))
    assert out, "a safe product exists for this case"
    item = next(i for i in index.items if i.product.name == out[0].event["produto"])
    assert forbidden_condition not in item.contraindications
    assert forbidden_condition in assistant.state.conditions


async def test_condition_said_later_replaces_unsafe_suggestion(
    index: CatalogIndex, assistant: CounterAssistant
) -> None:
    first = await say(assistant, ("cliente", "Tô com o nariz entupido e gripado"))
    assert first and "hipertensao" in index.by_id[first[0].recommendation.product.id].contraindications
    second = await say(assistant, ("cliente", "Ah, esqueci de falar: tenho pressão alta."))
    assert second, "the earlier suggestion became unsafe: a safe alternative is offered"
    assert "hipertensao" not in index.by_id[second[0].recommendation.product.id].contraindications


async def test_allergy_to_ingredient(index: CatalogIndex, assistant: CounterAssistant) -> None:
    out = await say(assistant, ("cliente", "Sou alérgica a dipirona e tô com dor de cabeça"))
    assert out
    assert "dipirona" not in index.by_id[out[0].recommendation.product.id].ingredients


async def test_prescription_only_never_suggested(index: CatalogIndex) -> None:
    """Ask for every prescription-only product by name and for what it treats: never suggested."""
    rx = [i for i in index.items if i.product.prescription_required]
    assert len(rx) >= 5
    for item in rx:
        assistant = CounterAssistant(index, LocalRecommender(index))
        lines = [f"Quero {item.product.active_ingredients[0]}"] + [f"é pra {x}" for x in item.product.indications]
        out = await say(assistant, *[("cliente", line) for line in lines])
        suggested = {o.recommendation.product.id for o in out}
        assert all(not index.by_id[s].product.prescription_required for s in suggested), item.product.name


async def test_no_duplicate_within_session(assistant: CounterAssistant) -> None:
    out = await say(
        assistant,
        ("cliente", "Tô com dor de cabeça"),
        ("atendente", "Desde quando?"),
        ("cliente", "Desde ontem, dor de cabeça forte"),
        ("cliente", "É, essa dor de cabeça não para"),
    )
    assert len(products(out)) == 1


async def test_same_product_again_only_when_situation_changes(assistant: CounterAssistant) -> None:
    first = await say(assistant, ("cliente", "Tô com dor de cabeça"))
    again = await say(assistant, ("cliente", "dor de cabeça mesmo"))
    changed = await say(assistant, ("cliente", "e agora começou uma febre também"))
    assert len(first) == 1 and again == []
    assert len(changed) == 1 and "febre" in changed[0].recommendation.matched


async def test_small_talk_gives_nothing(assistant: CounterAssistant) -> None:
    out = await say(
        assistant,
        ("atendente", "Bom dia! Tudo bem com a senhora?"),
        ("cliente", "Tudo ótimo, só vim pagar uma conta. Aceita pix?"),
        ("atendente", "Aceitamos sim."),
    )
    assert out == []


def test_labelled_sets_are_large_and_adversarial() -> None:
    """At least 150 labelled dialogues, a third of them adversarial, split into development and holdout."""
    dev, holdout = load_dialogues(HERE / "dialogues"), load_dialogues(HERE / "dialogues_holdout")
    both = dev + holdout
    assert len(both) >= 150 and len(holdout) >= len(both) // 3
    assert sum(d.adversarial for d in both) * 3 >= len(both)
    assert sum(1 for d in both if not d.expected) >= 10, "nothing-to-suggest dialogues are in the sets"
    assert sum(1 for d in both if d.unsafe) >= 40, "most hard cases name the products that must never appear"
    assert {d.name for d in dev}.isdisjoint({d.name for d in holdout})


@pytest.mark.parametrize("directory", ["dialogues", "dialogues_holdout", "dialogues_unseen"])
async def test_quality_set_meets_goals(index: CatalogIndex, directory: str) -> None:
    """The labelled dialogues against the issue's goals (timing is in bench/recommend.py, never asserted here).

    Never unsafe on any set; precision >= 0.95 and recall >= 0.90 on development and holdout. The
    unseen-style set (another voice, never tuned on) only has to stay safe and useful."""
    dialogues = load_dialogues(HERE / directory)
    report = await evaluate(index, dialogues, lambda: CounterAssistant(index, LocalRecommender(index)))
    assert report.unsafe_count == 0, [r.unsafe for r in report.results if r.unsafe]
    goals = (0.95, 0.90) if directory != "dialogues_unseen" else (0.85, 0.80)
    assert report.precision >= goals[0]
    assert report.recall >= goals[1]


async def test_long_silence_starts_a_new_customer(index: CatalogIndex) -> None:
    assistant = CounterAssistant(index, LocalRecommender(index), new_customer_gap=60.0)
    first = await assistant.on_segment(Segment("c1", "cliente", "Estou grávida e com dor de cabeça", 0.0, 3.0))
    assert first and "gravidez" in assistant.state.conditions
    # Ten minutes later, someone else: the pregnancy no longer applies and the product may come again.
    second = await assistant.on_segment(Segment("c2", "cliente", "Tô com dor de cabeça", 600.0, 602.0))
    assert second and assistant.customers == 2 and "gravidez" not in assistant.state.conditions


async def test_very_long_conversation_forgets_the_oldest_turns(index: CatalogIndex) -> None:
    assistant = CounterAssistant(index, LocalRecommender(index), new_customer_gap=None)
    await say(assistant, ("cliente", "Tô com azia"))
    for k in range(300):
        await say(assistant, ("atendente", f"Senha {k}, por favor."))
    assert len(assistant.state.turns) <= assistant.state.max_turns
    assert "azia" not in assistant.state.needs


async def test_brand_names_ask_for_the_ingredient(index: CatalogIndex, assistant: CounterAssistant) -> None:
    out = await say(assistant, ("cliente", "Tem novalgina? É pra febre."))
    assert out and "dipirona" in index.by_id[out[0].recommendation.product.id].ingredients


async def test_a_risk_stated_by_the_clerk_counts(index: CatalogIndex, assistant: CounterAssistant) -> None:
    await say(assistant, ("atendente", "O senhor falou que é hipertenso, então vamos com cuidado."))
    out = await say(assistant, ("cliente", "Isso. Tô com o nariz entupido."))
    assert "hipertensao" in assistant.state.conditions
    assert out and "hipertensao" not in index.by_id[out[0].recommendation.product.id].contraindications


@pytest.mark.parametrize(
    ("asr_text", "need", "denied"),
    [
        ("to com dor de cabeca e febre mas nao tenho tosse", "febre", "tosse"),
        ("boa tarde eu queria um remedio pra azia que nao tenho nada de febre", "azia", "febre"),
        ("minha garganta ta doendo muito sem tosse nenhuma", "dor_garganta", "tosse"),
    ],
)
async def test_unpunctuated_transcripts(assistant: CounterAssistant, asr_text: str, need: str, denied: str) -> None:
    """Speech-to-text output often has no punctuation or accents; contrast words still bound negation."""
    out = await say(assistant, ("cliente", asr_text))
    assert need in assistant.state.needs and denied not in assistant.state.needs
    assert out and need in out[0].recommendation.matched


async def test_concurrent_segments_never_duplicate(index: CatalogIndex) -> None:
    """Two speakers transcribed at once: the same need said twice still gives one suggestion."""
    assistant = CounterAssistant(index, LocalRecommender(index))
    segments = [Segment(f"c{i}", "cliente", "Tô com dor de garganta", i, i + 1) for i in range(5)]
    results = await asyncio.gather(*(assistant.on_segment(s) for s in segments))
    assert sum(len(r) for r in results) == 1


def test_every_concept_has_a_label_for_the_clerk() -> None:
    from core.counter.lexicon import CONDITIONS, LABELS, NEEDS

    assert set(NEEDS) | set(CONDITIONS) <= set(LABELS)
