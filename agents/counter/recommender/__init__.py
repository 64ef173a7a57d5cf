"""Recommenders: ``LocalRecommender`` (default, offline) and ``LLMRecommender`` (OpenAI or xAI)."""

from agents.counter.recommender.base import Candidate, Recommendation, RecommendContext, Recommender
from agents.counter.recommender.local import LocalRecommender

__all__ = ["Candidate", "LocalRecommender", "RecommendContext", "Recommendation", "Recommender"]
