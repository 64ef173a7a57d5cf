"""Recommenders: ``LocalRecommender`` (default, offline) and ``LLMRecommender`` (OpenAI or xAI)."""

from agents.counter.recommender.base import Candidate, RecommendContext, Recommender
from agents.counter.recommender.local import LocalRecommender
from core.counter.recommendation import Recommendation

__all__ = ["Candidate", "LocalRecommender", "RecommendContext", "Recommendation", "Recommender"]
