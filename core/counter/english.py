"""English at the counter: recognized, and translated word by phrase into the Portuguese vocabulary.

Tourists and expatriates ask in English. An utterance that looks English (mostly English function
words) is rewritten with this phrase table before matching, so "my daughter is four years old and
has a fever" reaches the same concepts, ages and safety rules as the Portuguese sentence. What the
table does not cover is reported as unsupported (``ConversationState.unsupported``), never guessed.
"""

from __future__ import annotations

import re

_ENGLISH = frozenset(
    [
        "i",
        "i'm",
        "im",
        "me",
        "my",
        "mine",
        "you",
        "your",
        "he",
        "she",
        "it",
        "we",
        "they",
        "his",
        "her",
        "their",
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "am",
        "be",
        "been",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "don't",
        "dont",
        "not",
        "no",
        "yes",
        "with",
        "for",
        "of",
        "to",
        "in",
        "on",
        "at",
        "from",
        "since",
        "this",
        "that",
        "what",
        "which",
        "who",
        "please",
        "thanks",
        "thank",
        "sorry",
        "hello",
        "hi",
        "need",
        "want",
        "something",
        "anything",
        "some",
        "any",
        "can",
        "could",
        "would",
        "should",
        "really",
        "very",
        "bad",
        "much",
        "little",
        "years",
        "old",
        "since",
        "today",
        "yesterday",
        "morning",
        "night",
    ]
)
_PORTUGUESE = frozenset(
    [
        "eu",
        "tu",
        "ele",
        "ela",
        "voce",
        "com",
        "pra",
        "para",
        "de",
        "do",
        "da",
        "que",
        "nao",
        "sim",
        "tem",
        "tenho",
        "to",
        "ta",
        "estou",
        "esta",
        "um",
        "uma",
        "meu",
        "minha",
        "o",
        "os",
        "as",
        "e",
        "por",
        "dor",
        "febre",
    ]
)

# fmt: off
PHRASES: dict[str, str] = {
    "sore throat": "dor de garganta", "throat is sore": "garganta doendo", "throat hurts": "garganta doendo",
    "headache": "dor de cabeça", "head hurts": "dor de cabeça", "migraine": "enxaqueca",
    "fever": "febre", "temperature": "febre", "dry cough": "tosse seca", "chesty cough": "tosse com catarro",
    "cough with phlegm": "tosse com catarro", "phlegm": "catarro", "cough": "tosse", "coughing": "tosse",
    "runny nose": "nariz escorrendo", "stuffy nose": "nariz entupido", "blocked nose": "nariz entupido",
    "congested": "nariz entupido", "sneezing": "espirrando", "cold": "resfriado", "flu": "gripe",
    "heartburn": "azia", "acid reflux": "refluxo", "indigestion": "má digestão", "diarrhea": "diarreia",
    "diarrhoea": "diarreia", "constipated": "intestino preso", "constipation": "prisão de ventre",
    "nausea": "enjoo", "nauseous": "enjoado", "motion sickness": "enjoo de viagem", "car sick": "enjoo de viagem",
    "seasick": "enjoo de viagem", "vomiting": "vomitando", "stomach ache": "dor de barriga",
    "stomachache": "dor de barriga", "cramps": "cólica", "period pain": "cólica menstrual", "colic": "cólica",
    "gas": "gases", "bloated": "barriga estufada", "back pain": "dor nas costas", "backache": "dor nas costas",
    "muscle pain": "dor muscular", "sore muscles": "dor muscular", "sprained": "torci", "sprain": "torção",
    "toothache": "dor de dente", "body aches": "dor no corpo", "allergy": "alergia", "allergic to": "alérgico a",
    "allergic": "alérgico", "itchy": "coceira", "itching": "coceira", "rash": "coceira", "hay fever": "rinite",
    "insect bite": "picada de inseto", "mosquito bite": "picada de mosquito", "mosquito bites": "picada de mosquito",
    "repellent": "repelente", "sunscreen": "protetor solar", "sunblock": "protetor solar", "sunburn": "queimado de sol",
    "burn": "queimadura", "cut": "corte", "wound": "ferida", "scrape": "ralado", "blister": "bolha",
    "cold sore": "herpes labial", "mouth ulcer": "afta", "canker sore": "afta", "dry eyes": "olho seco",
    "red eyes": "olho vermelho", "can't sleep": "não consigo dormir", "cant sleep": "não consigo dormir",
    "insomnia": "insônia", "anxiety": "ansiedade", "tired": "cansaço", "lice": "piolho", "athlete's foot": "frieira",
    "hemorrhoids": "hemorroida", "wart": "verruga", "dehydrated": "desidratado", "pregnancy test": "teste de gravidez",
    "painkiller": "analgésico", "pain": "dor", "hurts": "dói",
    "pregnant": "grávida", "breastfeeding": "amamentando", "nursing": "amamentando",
    "high blood pressure": "pressão alta", "blood pressure": "pressão alta", "hypertension": "hipertensão",
    "diabetic": "diabético", "diabetes": "diabetes", "asthma": "asma", "asthmatic": "asmático", "dengue": "dengue",
    "stomach ulcer": "úlcera", "ulcer": "úlcera", "gastritis": "gastrite", "kidney problem": "problema nos rins",
    "liver problem": "problema no fígado", "blood thinner": "anticoagulante", "blood thinners": "anticoagulante",
    "i take": "eu tomo", "she takes": "ela toma", "he takes": "ele toma", "takes": "toma",
    "my son": "meu filho", "my daughter": "minha filha", "my baby": "meu bebê", "the baby": "o bebê",
    "baby": "bebê", "my child": "meu filho", "my kid": "meu filho", "my husband": "meu marido",
    "my wife": "minha esposa",
    "my mother": "minha mãe", "my father": "meu pai", "my grandson": "meu neto", "my granddaughter": "minha neta",
    "child": "criança", "kid": "criança", "years old": "anos", "year old": "ano", "months old": "meses",
    "month old": "mês", "weeks old": "semanas", "weeks pregnant": "semanas de gravidez",
    "months pregnant": "meses de gravidez", "one": "um", "two": "dois", "three": "três", "four": "quatro",
    "five": "cinco", "six": "seis", "seven": "sete", "eight": "oito", "nine": "nove", "ten": "dez",
    "eleven": "onze", "twelve": "doze", "is": "tem", "has": "tem", "have": "tenho", "i have": "tenho",
    "i've got": "tenho", "no": "não", "not": "não", "don't": "não", "without": "sem", "prescription": "receita",
    "antibiotic": "antibiótico", "antibiotics": "antibiótico", "and": "e", "but": "mas",
}
# fmt: on
_TABLE = sorted(PHRASES.items(), key=lambda kv: -len(kv[0]))
_PATTERN = re.compile(r"\b(" + "|".join(re.escape(k) for k, _ in _TABLE) + r")\b")
_WORDS = re.compile(r"[a-z']+")


def looks_english(text: str) -> bool:
    words = _WORDS.findall(text.lower())
    if len(words) < 2:
        return False
    en = sum(w in _ENGLISH for w in words)
    pt = sum(w in _PORTUGUESE for w in words)
    return en >= 2 and en > 2 * pt


def translate(text: str) -> str:
    """The English phrases this table knows, replaced by their Portuguese counterparts."""
    return _PATTERN.sub(lambda m: PHRASES[m.group(1)], text.lower())
