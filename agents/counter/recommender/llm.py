"""The LLM recommender: OpenAI or xAI (Grok) chat completions with a JSON-schema answer.

The local rules decide when a suggestion is due; the prompt is then bounded: the last few turns of
the conversation and the top candidates of the local ranker (already safety-filtered and
de-duplicated), never the whole catalog. The model picks one
candidate by a short id (``p1``...) or ``nenhum`` and writes the explanation for the clerk; the
schema's ``enum`` keeps it from inventing products, and the answer is checked again anyway. Any
failure (timeout, HTTP error, refusal, truncated or malformed JSON, an unknown id) falls back to the
local recommender for that utterance, recording why.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from typing import Any, Literal

from livekit.agents import APIConnectOptions
from livekit.agents.llm import ChatContext
from livekit.plugins import openai

from agents.counter.recommender.base import Candidate, RecommendContext, Recommender
from agents.counter.recommender.local import LocalRecommender
from agents.counter.safety import Patient, unsafe_reason
from core.counter.lexicon import LABELS
from core.counter.recommendation import Recommendation

log = logging.getLogger("escuta.counter.llm")

Provider = Literal["openai", "xai"]
DEFAULT_MODELS: dict[str, str] = {"openai": "gpt-5.4-mini", "xai": "grok-4-1-fast-non-reasoning"}
NONE_ID = "nenhum"
MAX_TURN_CHARS = 300
MAX_FIELD_CHARS = 200

SYSTEM_PROMPT = """Você apoia o atendente de uma farmácia no Brasil, ouvindo a conversa no balcão.
Escolha no máximo UM produto da lista de candidatos que atenda ao que o cliente precisa agora, ou \
"nenhum" se nenhum candidato for adequado ou se a conversa não pedir um produto.
Regras: use somente os ids da lista; os candidatos já respeitam receita e contraindicações relatadas, \
mas se a conversa trouxer outro risco (gravidez, pressão alta, criança, alergia), prefira "nenhum".
"explicacao": uma ou duas frases curtas em português para o atendente (por que este produto).
"trecho": as palavras do cliente que motivaram a sugestão, copiadas da conversa."""


def build_llm(
    provider: Provider, *, api_key: str, model: str | None = None, base_url: str | None = None, timeout: float = 5.0
) -> openai.LLM:
    """A livekit-plugins-openai LLM for OpenAI or xAI (OpenAI-compatible chat completions)."""
    import httpx2  # the HTTP client the openai SDK (and so the plugin) is built on

    if provider == "xai":
        kwargs: dict[str, Any] = {"base_url": base_url} if base_url else {}
        return openai.LLM.with_x_ai(model=model or DEFAULT_MODELS["xai"], api_key=api_key, temperature=0.0, **kwargs)
    return openai.LLM(
        model=model or DEFAULT_MODELS["openai"],
        api_key=api_key,
        base_url=base_url or "https://api.openai.com/v1",
        timeout=httpx2.Timeout(timeout, connect=min(timeout, 5.0)),
        max_retries=0,
    )


def response_format(ids: list[str]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "recomendacao_balcao",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {
                    "produto": {"type": "string", "enum": [*ids, NONE_ID]},
                    "explicacao": {"type": "string"},
                    "trecho": {"type": "string"},
                },
                "required": ["produto", "explicacao", "trecho"],
                "additionalProperties": False,
            },
        },
    }


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_prompt(ctx: RecommendContext, candidates: list[Candidate], *, window_turns: int) -> str:
    state = ctx.state
    lines = ["Conversa recente:"]
    who = state.patient.describe(state.conditions, LABELS)
    lines += [f"{t.role}: {_clip(t.text, MAX_TURN_CHARS)}" for t in state.turns[-window_turns:]]
    conditions = sorted(LABELS.get(c, c.replace("alergia:", "alergia a ")) for c in state.conditions)
    if who:
        lines.append(who)
    if conditions:
        lines.append("Condições relatadas: " + ", ".join(conditions))
    if state.denied:
        lines.append("Sintomas negados: " + ", ".join(sorted(LABELS.get(c, c) for c in state.denied)))
    lines.append("\nCandidatos:")
    for i, cand in enumerate(candidates, 1):
        p = cand.item.product
        lines.append(
            f"p{i} | {p.name} | indicações: {_clip(', '.join(p.indications), MAX_FIELD_CHARS)}"
            f" | advertências: {_clip(p.warnings, MAX_FIELD_CHARS)}"
        )
    return "\n".join(lines)


class LLMAnswerError(Exception):
    """The model answered, but not with something usable (the reason names no transcript text)."""


class LLMRecommender(Recommender):
    """Chooses among the local ranker's candidates with an LLM; falls back to ``fallback`` on failure."""

    def __init__(
        self,
        llm: openai.LLM,
        fallback: LocalRecommender,
        *,
        provider: Provider = "openai",
        timeout: float = 5.0,
        max_candidates: int = 5,
        window_turns: int = 8,
    ) -> None:
        self.llm = llm
        self.fallback = fallback
        self.provider = provider
        self.timeout = timeout
        self.max_candidates = max_candidates
        self.window_turns = window_turns
        self.calls = 0
        self.fallbacks = 0

    async def recommend(self, ctx: RecommendContext) -> Recommendation | None:
        if not ctx.delta.changed:
            return None
        ranked = self.fallback.rank(ctx)
        # The local rules decide *when* an event is due (something new to answer, no repeats); the
        # model decides *which* product among the best candidates and explains it. No event due, or
        # nothing safe to offer: no call, no cost.
        chosen = self.fallback.choose(ctx, ranked)
        if chosen is None:
            return None
        candidates = ranked[: self.max_candidates]
        if chosen not in candidates:
            candidates[-1] = chosen
        self.calls += 1
        started = time.perf_counter()
        usage: tuple[int | None, int | None] = (None, None)
        try:
            async with asyncio.timeout(self.timeout):
                content, usage = await self._ask(ctx, candidates)
            return self._accept(ctx, candidates, content, usage)
        except Exception as exc:  # any failure of the remote path degrades to the local answer
            self.fallbacks += 1
            reason = _reason(exc)
            log.warning(
                "counter LLM fell back to local: provider=%s reason=%s after %.0f ms",
                self.provider,
                reason,
                (time.perf_counter() - started) * 1000,
            )
            local = self.fallback.recommend_now(ctx, fallback_reason=reason)
            if local is None:
                return None
            return dataclasses.replace(local, prompt_tokens=usage[0], completion_tokens=usage[1])

    async def _ask(
        self, ctx: RecommendContext, candidates: list[Candidate]
    ) -> tuple[str, tuple[int | None, int | None]]:
        chat = ChatContext.empty()
        chat.add_message(role="system", content=SYSTEM_PROMPT)
        chat.add_message(role="user", content=build_prompt(ctx, candidates, window_turns=self.window_turns))
        ids = [f"p{i}" for i in range(1, len(candidates) + 1)]
        parts: list[str] = []
        prompt_tokens: int | None = None
        completion_tokens: int | None = None
        stream = self.llm.chat(
            chat_ctx=chat,
            conn_options=APIConnectOptions(max_retry=0, timeout=self.timeout),
            extra_kwargs={"response_format": response_format(ids)},
        )
        async with stream:
            async for chunk in stream:
                if chunk.delta and chunk.delta.content:
                    parts.append(chunk.delta.content)
                if chunk.usage is not None:
                    prompt_tokens, completion_tokens = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
        return "".join(parts), (prompt_tokens, completion_tokens)

    def _accept(
        self,
        ctx: RecommendContext,
        candidates: list[Candidate],
        content: str,
        usage: tuple[int | None, int | None],
    ) -> Recommendation | None:
        try:
            answer = json.loads(content)
        except json.JSONDecodeError:
            raise LLMAnswerError("malformed JSON") from None
        if not isinstance(answer, dict) or not all(isinstance(answer.get(k), str) for k in ("produto", "explicacao")):
            raise LLMAnswerError("answer does not follow the schema")
        choice = answer["produto"].strip()
        if choice == NONE_ID:
            return None
        index = int(choice[1:]) - 1 if choice.startswith("p") and choice[1:].isdigit() else -1
        if not 0 <= index < len(candidates):
            raise LLMAnswerError("unknown product id")
        cand = candidates[index]
        if unsafe_reason(cand.item, Patient.of(ctx.state)) is not None:  # defence in depth
            raise LLMAnswerError("unsafe product")
        explanation = _clip(answer["explicacao"], 400) or self.fallback.explain(ctx, cand)
        # The clerk always sees who the patient is, whatever the model wrote.
        who = ctx.state.patient.describe(ctx.state.conditions, LABELS)
        if who and not explanation.startswith("Paciente:"):
            explanation = f"{who} {explanation}"
        trecho = answer.get("trecho")
        # The excerpt must be the customer's words; a paraphrase falls back to the recorded turns.
        said = " ".join(t.text for t in ctx.state.window())
        excerpt = trecho.strip() if isinstance(trecho, str) and trecho.strip() and trecho.strip() in said else None
        return Recommendation(
            product=cand.item.product,
            explanation=explanation,
            transcript_excerpt=excerpt or ctx.state.texts_for(set(cand.matched) | set(ctx.state.requests)),
            matched=cand.matched,
            provider=self.provider,
            model=self.llm.model,
            prompt_tokens=usage[0],
            completion_tokens=usage[1],
        )

    async def aclose(self) -> None:
        await self.llm.aclose()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, LLMAnswerError):
        return str(exc)
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    return f"{name} {status}" if status else name
