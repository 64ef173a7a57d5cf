"""Patient context: ages in spoken forms, pregnancy vs a child's age, medicines by brand, English, STT damage."""

from __future__ import annotations

import pytest

from agents.counter.assistant import CounterAssistant
from agents.counter.utterance import read_utterance
from core.counter.catalog import CatalogIndex
from core.counter.english import looks_english
from core.counter.patient import read_patient
from core.counter.text import tokens
from tests.counter.helpers import say


@pytest.mark.parametrize(
    ("text", "months", "gestation"),
    [
        ("Minha netinha tá com febre, ela tem dois aninhos", 24, None),
        ("meu filho de 5 anos", 60, None),
        ("ela tem vinte e dois anos", 264, None),
        ("o menino tem um ano e meio", 18, None),
        ("minha filha tem dois anos e meio", 30, None),
        ("o nenê nasceu faz quinze dias", 0, None),
        ("meu bebê de seis meses", 6, None),
        ("é recém-nascido", 0, None),
        ("meu avô de oitenta anos", 960, None),
        ("Tô esperando bebê, de sete meses", None, "sete mes"),
        ("grávida de 30 semanas", None, "30 semana"),
        ("tô de barriga de quatro mês", None, "quatro mes"),
        ("faz dois anos que tenho rinite", None, None),
        ("tem três meses que tô com tosse", None, None),
        ("tô grávida e meu filho de 3 meses tá com febre", 3, None),
    ],
)
def test_age_in_every_spoken_form(index: CatalogIndex, text: str, months: int | None, gestation: str | None) -> None:
    found = read_patient(tokens(index.repair.repair(text)))
    assert (found.age.months if found.age else None) == months
    assert found.gestation == gestation


@pytest.mark.parametrize(
    ("text", "subject", "relation"),
    [
        ("Meu pai toma Marevan e torceu o tornozelo", "terceiro", "pai"),
        ("minha netinha tá com febre", "crianca", "neta"),
        ("o bebê tá com cólica", "bebe", "bebe"),
        ("minha avó tá com o intestino preso", "idoso", "avo"),
        ("tô com dor de cabeça", "falante", None),
        ("Tô esperando bebê", "falante", None),
    ],
)
def test_who_the_patient_is(index: CatalogIndex, text: str, subject: str, relation: str | None) -> None:
    found = read_patient(tokens(index.repair.repair(text)))
    assert (found.subject, found.relation) == (subject, relation)


@pytest.mark.parametrize(
    ("text", "taken", "condition"),
    [
        ("Meu pai toma Marevan", "varfarina", "anticoagulante"),
        ("eu uso xarelto", "rivaroxabana", "anticoagulante"),
        ("tomo losartana todo dia", "losartana", "hipertensao"),
        ("minha mãe usa insulina", "insulina", "diabetes"),
        ("ela toma remédio pra afinar o sangue", "anticoagulante", "anticoagulante"),
    ],
)
def test_medicines_by_ingredient_brand_and_class(index: CatalogIndex, text: str, taken: str, condition: str) -> None:
    r = read_utterance(index, text)
    assert taken in r.taken and r.conditions.get(condition) is False
    assert not r.rx_request, "saying what the patient takes is not asking for it"


@pytest.mark.parametrize(
    ("text", "rx"),
    [
        ("Tem amoxicilina?", True),
        ("Queria um antibiótico pra garganta", True),
        ("Você tem algum tarja preta?", True),
        ("Tem Marevan?", True),
        ("Tem dipirona?", False),
        ("Tô tomando antibiótico e fiquei com diarreia", False),
        ("Não quero antibiótico, só algo pra garganta", False),
    ],
)
def test_prescription_only_requests(index: CatalogIndex, text: str, rx: bool) -> None:
    assert read_utterance(index, text).rx_request is rx


@pytest.mark.parametrize(
    ("heard", "need"),
    [
        ("eu to com uma tose seca", "tosse_seca"),
        ("to com febri e dor de cabesa", "dor_cabeca"),
        ("to com uma dordecabeca forte", "dor_cabeca"),
        ("minha garganta ta doemdo", "dor_garganta"),
        ("to com o nariz escorendo", "coriza"),
        ("o narizinho tá entupido", "nariz_entupido"),
    ],
)
def test_speech_to_text_damage_is_repaired(index: CatalogIndex, heard: str, need: str) -> None:
    assert need in {m.concept for m in read_utterance(index, heard).needs}


@pytest.mark.parametrize(
    "text", ["Que calor, forte demais hoje", "Vim pagar as contas", "Me vê um copo d'água", "Posso pagar com pix?"]
)
def test_repair_leaves_everyday_words_alone(index: CatalogIndex, text: str) -> None:
    r = read_utterance(index, text)
    assert r.needs == [] and r.conditions == {}


def test_split_brand_names_are_joined(index: CatalogIndex) -> None:
    assert "paracetamol" in index.repair.repair("queria um para cetamol")
    assert "neosaldina" in index.repair.repair("tem neo saldina?")


def test_english_is_understood_or_reported(index: CatalogIndex) -> None:
    assert looks_english("My daughter is four years old and she has a fever")
    assert not looks_english("Tô com dor de cabeça desde ontem")
    r = read_utterance(index, "My daughter is four years old and she has a fever")
    assert r.language == "en" and r.understood
    assert "febre" in {m.concept for m in r.needs} and r.patient.age is not None and r.patient.age.months == 48
    unknown = read_utterance(index, "Excuse me, where is the nearest bus station?")
    assert unknown.language == "en" and not unknown.understood


async def test_unsupported_language_is_counted(assistant: CounterAssistant) -> None:
    out = await say(assistant, ("cliente", "Excuse me, where is the nearest bus station?"))
    assert out == [] and assistant.unsupported_utterances == 1
    assert assistant.last_delta.language == "en" and assistant.last_delta.unsupported


async def test_explanation_shows_the_patient(assistant: CounterAssistant) -> None:
    out = await say(assistant, ("cliente", "Meu pai toma Marevan e torceu o tornozelo."))
    assert out
    explanation = out[0].event["explicacao"]
    assert explanation.startswith("Paciente: pai; toma varfarina (marevan)")
    assert set(out[0].event) == {"id", "comando", "produto", "explicacao", "transcricao_base", "atendente"}


async def test_age_answered_to_the_clerk(index: CatalogIndex, assistant: CounterAssistant) -> None:
    out = await say(
        assistant,
        ("cliente", "É pro meu neto, ele tá com febre."),
        ("atendente", "Quantos anos ele tem?"),
        ("cliente", "Três."),
    )
    assert assistant.state.patient.age_months == 36
    assert out and all(index.by_id[o.recommendation.product.id].product.pediatric for o in out)


async def test_gestation_said_after_the_clerk_asks(assistant: CounterAssistant) -> None:
    await say(
        assistant,
        ("cliente", "Tô com dor nas costas."),
        ("atendente", "A senhora está grávida?"),
        ("cliente", "Sim, de três meses."),
    )
    assert "gravidez" in assistant.state.conditions and "crianca" not in assistant.state.conditions
    assert assistant.state.patient.gestation == "tres mes"
