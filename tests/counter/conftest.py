"""Fixtures for the counter tests: the sample catalog's index and a fresh local assistant."""

from __future__ import annotations

import pytest

from agents.counter.assistant import CounterAssistant
from agents.counter.recommender import LocalRecommender
from core.counter.catalog import CatalogIndex, load_sample_catalog


@pytest.fixture(scope="session")
def index() -> CatalogIndex:
    return CatalogIndex(load_sample_catalog())


@pytest.fixture
def assistant(index: CatalogIndex) -> CounterAssistant:
    return CounterAssistant(index, LocalRecommender(index), atendente="Carla")
