"""Settings sections, and how their fields keep the flat environment names Escuta has always read.

`Settings` is nested per feature (`settings.counter.llm_provider`), but each field is still read from
one flat variable: the section's prefix plus the field's name (`ESCUTA_COUNTER_LLM_PROVIDER`), or an
explicit name where the documented variable differs (`ESCUTA_DATABASE_URL` for `db.url`), plus legacy
names that come first (seed 002's `JWT_ACCESS_SECRET`, livekit's `LIVEKIT_URL`). Code and tests may
also build settings from those flat names (`Settings(counter_llm_provider="xai")`), so the name in the
README's table is the one name of a setting everywhere outside the attribute path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo


class Section(BaseModel):
    """One feature's settings. Subclasses set `prefix`; a field whose type is a Section is a subsection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: ClassVar[str] = ""
    """Flat name of a field = prefix + field name (e.g. ``counter_`` + ``llm_provider``)."""
    flat_names: ClassVar[Mapping[str, str]] = {}
    """Fields whose flat name is not prefix + name (e.g. ``{"url": "database_url"}``)."""
    env_aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Environment variables read for a field *before* ``ESCUTA_<FLAT>`` (e.g. ``LIVEKIT_URL``)."""
    settings_fields: ClassVar[frozenset[str] | None] = None
    """Fields that are settings (read from the environment); None: all. Others are design constants."""

    def updated(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied and validated (unknown names are an error)."""
        return type(self).model_validate({**self.model_dump(), **changes})


@dataclass(frozen=True)
class FlatField:
    """Where one flat setting lives in the nested settings."""

    flat: str  # e.g. "counter_llm_provider"
    path: tuple[str, ...]  # e.g. ("counter", "llm_provider")
    info: FieldInfo
    aliases: tuple[str, ...]  # environment names tried before ESCUTA_<FLAT>

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.aliases, f"ESCUTA_{self.flat.upper()}")))


def _section_type(annotation: Any) -> type[Section] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, Section) else None


def walk(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[FlatField]:
    """Every flat setting of ``model`` (a Settings or a Section class), depth first, in declaration order."""
    prefix = model.prefix if issubclass(model, Section) else ""
    flat_names = model.flat_names if issubclass(model, Section) else {}
    aliases = model.env_aliases if issubclass(model, Section) else {}
    chosen = model.settings_fields if issubclass(model, Section) else None
    for name, info in model.model_fields.items():
        sub = _section_type(info.annotation)
        if sub is not None:
            yield from walk(sub, (*path, name))
        elif chosen is None or name in chosen:
            yield FlatField(flat_names.get(name, prefix + name), (*path, name), info, tuple(aliases.get(name, ())))


def fold(data: Mapping[str, Any], fields: Mapping[str, FlatField]) -> dict[str, Any]:
    """Flat keys (``counter_llm_provider``) moved into their sections; nested values already given win."""
    out: dict[str, Any] = {}
    flat_items: list[tuple[FlatField, Any]] = []
    for key, value in data.items():
        f = fields.get(key)
        if f is not None and len(f.path) > 1:
            flat_items.append((f, value))
        else:
            out[key] = value
    for f, value in flat_items:
        node: Any = out
        for part in f.path[:-1]:
            child = node.get(part)
            if isinstance(child, BaseModel):
                break  # a whole section was given as an object: it wins over flat values
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                break
            else:
                child = node[part] = dict(child)  # never mutate the caller's dict
            node = child
        else:
            node.setdefault(f.path[-1], value)
    return out
