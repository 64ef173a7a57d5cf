"""The LLM recommender through livekit-plugins-openai against an OpenAI-compatible stub on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from agents.counter.assistant import CounterAssistant
from agents.counter.conversation import Role
from agents.counter.recommender import Candidate, LocalRecommender, RecommendContext
from agents.counter.recommender.llm import MAX_FIELD_CHARS, MAX_TURN_CHARS, LLMRecommender, build_llm
from core.counter.catalog import CatalogIndex
from tests.counter.helpers import say
from tests.counter.openai_stub import ChatStub

HEADACHE_PREGNANT: tuple[Role, str] = ("cliente", "Estou grávida e com dor de cabeça, o que posso tomar?")


@pytest.fixture
async def stub() -> AsyncIterator[ChatStub]:
    server = ChatStub()
    await server.start()
    yield server
    await server.stop()


def llm_assistant(
    index: CatalogIndex, stub: ChatStub, *, provider: str = "openai", timeout: float = 2.0
) -> CounterAssistant:
    llm = build_llm(provider, api_key="sk-test-stub", model="stub-model", base_url=stub.base_url, timeout=timeout)  # type: ignore[arg-type]
    rec = LLMRecommender(llm, LocalRecommender(index), provider=provider, timeout=timeout)  # type: ignore[arg-type]
    return CounterAssistant(index, rec, atendente="Carla")


async def test_structured_answer_is_used(index: CatalogIndex, stub: ChatStub) -> None:
    assistant = llm_assistant(index, stub)
    out = await say(assistant, HEADACHE_PREGNANT)
    await assistant.aclose()
    assert len(out) == 1
    rec = out[0].recommendation
    assert rec.provider == "openai" and rec.model == "stub-model" and rec.fallback_reason is None
    # The model's words, after the patient context the clerk always sees.
    assert rec.explanation == "Paciente: o próprio cliente; gestante. Indicado para o que o cliente relatou."
    assert rec.prompt_tokens and rec.completion_tokens == 20
    assert "gravidez" not in index.by_id[rec.product.id].contraindications
    # The request the plugin sent: streamed, strict JSON schema, a bounded prompt.
    body = stub.requests[0]
    assert body["stream"] is True and body["model"] == "stub-model"
    schema = body["response_format"]["json_schema"]
    assert body["response_format"]["type"] == "json_schema" and schema["strict"] is True
    ids = schema["schema"]["properties"]["produto"]["enum"]
    assert ids[-1] == "nenhum" and 1 < len(ids) <= 6
    prompt = body["messages"][-1]["content"]
    assert "Estou grávida" in prompt and "gravidez" in prompt
    assert prompt.count("\np") == len(ids) - 1, "only the candidates, never the whole catalog"
    assert stub.auth_headers[0] == "Bearer sk-test-stub"


async def test_model_may_decline(index: CatalogIndex, stub: ChatStub) -> None:
    stub.pick = "nenhum"
    assistant = llm_assistant(index, stub)
    out = await say(assistant, HEADACHE_PREGNANT)
    await assistant.aclose()
    assert out == [] and len(stub.requests) == 1


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("malformed", "malformed JSON"), ("truncated", "malformed JSON"), ("invented", "unknown product id")],
)
async def test_bad_answers_fall_back_to_local(index: CatalogIndex, stub: ChatStub, mode: str, reason: str) -> None:
    stub.mode = mode
    assistant = llm_assistant(index, stub)
    out = await say(assistant, HEADACHE_PREGNANT)
    await assistant.aclose()
    assert len(out) == 1
    rec = out[0].recommendation
    assert rec.provider == "local" and rec.fallback_reason == reason
    assert "gravidez" not in index.by_id[rec.product.id].contraindications


async def test_http_error_falls_back_to_local(index: CatalogIndex, stub: ChatStub) -> None:
    stub.mode = "error"
    assistant = llm_assistant(index, stub)
    out = await say(assistant, HEADACHE_PREGNANT)
    await assistant.aclose()
    assert len(out) == 1 and out[0].recommendation.provider == "local"
    assert out[0].recommendation.fallback_reason is not None
    assert "500" in out[0].recommendation.fallback_reason or "Error" in out[0].recommendation.fallback_reason


async def test_timeout_falls_back_to_local(index: CatalogIndex, stub: ChatStub) -> None:
    stub.mode = "slow"
    stub.delay = 5.0
    assistant = llm_assistant(index, stub, timeout=0.3)
    out = await say(assistant, HEADACHE_PREGNANT)
    await assistant.aclose()
    assert len(out) == 1
    assert out[0].recommendation.provider == "local" and out[0].recommendation.fallback_reason == "timeout"


async def test_no_candidates_no_call(index: CatalogIndex, stub: ChatStub) -> None:
    assistant = llm_assistant(index, stub)
    out = await say(assistant, ("cliente", "Bom dia, aceita pix?"), ("cliente", "Quero sildenafila"))
    await assistant.aclose()
    assert out == [] and stub.requests == []


async def test_xai_through_with_x_ai(index: CatalogIndex, stub: ChatStub) -> None:
    assistant = llm_assistant(index, stub, provider="xai")
    out = await say(assistant, ("cliente", "Tô com tosse seca, sem catarro"))
    await assistant.aclose()
    assert len(out) == 1 and out[0].recommendation.provider == "xai"
    assert json.loads(json.dumps(stub.requests[0]["response_format"]))["json_schema"]["strict"] is True


async def test_called_only_when_a_suggestion_is_due(index: CatalogIndex, stub: ChatStub) -> None:
    assistant = llm_assistant(index, stub)
    out = await say(
        assistant,
        ("cliente", "Tô com dor de cabeça"),
        ("cliente", "é, dor de cabeça mesmo"),  # nothing new: no call
        ("atendente", "Bom dia, próximo!"),  # small talk: no call
    )
    await assistant.aclose()
    assert len(out) == 1 and len(stub.requests) == 1


async def test_prompt_is_bounded_on_a_long_conversation(index: CatalogIndex, stub: ChatStub) -> None:
    assistant = llm_assistant(index, stub)
    window = 8  # LLMRecommender's default window_turns
    small_talk: list[tuple[Role, str]] = [
        ("atendente" if i % 2 else "cliente", f"conversa antiga {i:03d}, tudo bem por aí?") for i in range(150)
    ]
    story = "Olha, deixa eu contar como foi a viagem até a praia no fim de semana. " * 80 + "FIM-DA-HISTORIA"
    out = await say(
        assistant,
        *small_talk,
        ("cliente", story),
        ("atendente", "Entendi, e o que a senhora precisa hoje?"),
        ("cliente", "Tô com dor de cabeça desde ontem"),
    )
    await assistant.aclose()
    assert len(out) == 1 and len(stub.requests) == 1, "small talk alone never calls the model"
    prompt: str = stub.requests[0]["messages"][-1]["content"]
    conversation = prompt.split("\nCandidatos:")[0].splitlines()[1:]
    turns = [line for line in conversation if line.startswith(("cliente: ", "atendente: "))]

    # Only the last `window` turns: the 145 older ones are left out.
    assert len(turns) == window
    assert turns[-1] == "cliente: Tô com dor de cabeça desde ontem"
    assert "conversa antiga 144" not in prompt and "conversa antiga 145," in prompt
    # The long turn is cut to MAX_TURN_CHARS, its tail (and the rest of a 5,600-character story) dropped.
    long_turn = next(t for t in turns if t.startswith("cliente: Olha"))
    assert len(long_turn) - len("cliente: ") == MAX_TURN_CHARS and long_turn.endswith("…")
    assert "FIM-DA-HISTORIA" not in prompt and len(story) > 10 * MAX_TURN_CHARS
    # So the whole prompt stays bounded whatever the length of the conversation: the window of cut turns,
    # plus at most max_candidates product lines of bounded fields.
    per_turn = len("atendente: ") + MAX_TURN_CHARS + 1
    per_product = 100 + 2 * MAX_FIELD_CHARS + 40  # name, indications and warnings (each cut), separators
    assert len(prompt) < window * per_turn + 5 * per_product + 300
    assert prompt.count("\np") <= 5


class _UnfilteredRanker(LocalRecommender):
    """A ranker whose safety check was lost in a refactor: the filter after the model must still hold."""

    def rank(self, ctx: RecommendContext) -> list[Candidate]:
        state = ctx.state
        items = [i for i in self.index.items if set(i.needs) & set(state.needs) and not i.product.prescription_required]
        items.sort(key=lambda i: (not i.product.name.startswith("Paracetamol 750"), i.product.name))
        return [Candidate(i, 1.0, tuple(c for c in i.needs if c in state.needs)) for i in items]


async def test_same_safety_filter_after_the_model(index: CatalogIndex, stub: ChatStub) -> None:
    """The model picks an adult tablet for a two-year-old: the filter refuses the model's answer, and the
    assistant's final gate (the same filter) refuses the buggy ranker's fallback too: nothing goes out."""
    llm = build_llm("openai", api_key="sk-test-stub", model="stub-model", base_url=stub.base_url, timeout=2.0)
    rec = LLMRecommender(llm, _UnfilteredRanker(index), provider="openai", timeout=2.0)
    assistant = CounterAssistant(index, rec, atendente="Carla")
    out = await say(assistant, ("cliente", "Minha netinha tá com febre, ela tem dois aninhos."))
    await assistant.aclose()
    assert len(stub.requests) == 1 and "Paracetamol 750 mg" in stub.requests[0]["messages"][-1]["content"]
    assert rec.fallbacks == 1, "the model's p1 (the adult tablet) was refused as unsafe"
    assert out == [] and assistant.blocked == 1, "the fallback's adult tablet stopped at the final gate"
    # With the real (filtering) ranker the same conversation gets children's drops.
    safe = llm_assistant(index, stub)
    out = await say(safe, ("cliente", "Minha netinha tá com febre, ela tem dois aninhos."))
    await safe.aclose()
    assert len(out) == 1 and index.by_id[out[0].recommendation.product.id].product.pediatric


async def test_prompt_carries_the_patient_and_rx_requests_cost_nothing(index: CatalogIndex, stub: ChatStub) -> None:
    assistant = llm_assistant(index, stub)
    out = await say(assistant, ("cliente", "Meu pai toma Marevan e torceu o tornozelo."))
    assert len(out) == 1 and len(stub.requests) == 1
    prompt = stub.requests[0]["messages"][-1]["content"]
    assert "Paciente: pai; toma varfarina (marevan)" in prompt
    assert "salicilato" not in prompt.lower() and "Ibuprofeno" not in prompt, "unsafe candidates never reach the model"
    assert out[0].event["explicacao"].startswith("Paciente: pai")
    await say(assistant, ("cliente", "E tem amoxicilina? Tô com a garganta inflamada."))
    await assistant.aclose()
    assert len(stub.requests) == 1, "a prescription-only request is answered with nothing, without a call"
