"""Medicines a patient may already take: active ingredients, their common Brazilian brands, classes.

"Meu pai toma Marevan" means varfarina, which is an ``anticoagulante``: the catalog's interactions
name ingredients or these classes, and some classes also stand for a condition the products list
among their contraindications (an anticoagulant is a bleeding risk, a blood-pressure medicine means
hypertension). Sources for the class memberships: the package inserts (bulas) in ANVISA's Bulário
Eletrônico and the WHO ATC classification.
"""

from __future__ import annotations

# ingredient -> brand or colloquial names (accents optional; matched like every phrase)
# fmt: off
MEDICINES: dict[str, tuple[str, ...]] = {
    "varfarina": ("marevan", "coumadin", "warfarin", "warfarina", "varfarin"),
    "femprocumona": ("marcoumar",),
    "rivaroxabana": ("xarelto", "rivaroxaban"),
    "apixabana": ("eliquis", "apixaban"),
    "dabigatrana": ("pradaxa", "dabigatran"),
    "edoxabana": ("lixiana",),
    "enoxaparina": ("clexane", "heparina"),
    "clopidogrel": ("plavix",),
    "ticagrelor": ("brilinta",),
    "aas infantil": ("aas 100", "aspirina prevent", "somalgin cardio", "aspirina infantil"),
    "losartana": ("losartan", "cozaar", "aradois"),
    "enalapril": ("renitec",),
    "captopril": ("capoten",),
    "valsartana": ("diovan",),
    "anlodipino": ("anlodipina", "norvasc"),
    "nifedipino": ("adalat",),
    "hidroclorotiazida": ("clorana",),
    "furosemida": ("lasix",),
    "espironolactona": ("aldactone",),
    "atenolol": (),
    "propranolol": (),
    "carvedilol": (),
    "metoprolol": ("selozok",),
    "metformina": ("glifage",),
    "insulina": (),
    "glibenclamida": ("daonil",),
    "gliclazida": ("diamicron",),
    "sitagliptina": ("januvia",),
    "dapagliflozina": ("forxiga",),
    "empagliflozina": ("jardiance",),
    "carbonato de litio": ("litio", "carbolitium"),
    "metotrexato": ("metotrexate",),
    "ciclosporina": (),
    "fluoxetina": ("prozac",),
    "sertralina": ("zoloft",),
    "escitalopram": ("lexapro",),
    "paroxetina": (),
    "citalopram": (),
    "amitriptilina": ("amytril",),
    "nortriptilina": ("pamelor",),
    "tranilcipromina": ("parnate",),
    "selegilina": (),
    "clonazepam": ("rivotril",),
    "alprazolam": ("frontal",),
    "diazepam": ("valium",),
    "bromazepam": ("lexotan",),
    "lorazepam": (),
    "tramadol": ("tramal",),
    "codeina": ("tylex",),
    "prednisona": ("meticorten",),
    "prednisolona": (),
    "dexametasona": ("decadron",),
    "levotiroxina": ("puran", "puran t4", "euthyrox", "synthroid"),
    "nitroglicerina": ("isordil", "monocordil"),
    "fluconazol": ("zoltec",),
    "nistatina": (),
}

# class -> member ingredients (a catalog's interactions may name the class)
MEDICINE_CLASSES: dict[str, tuple[str, ...]] = {
    "anticoagulante": ("varfarina", "femprocumona", "rivaroxabana", "apixabana", "dabigatrana", "edoxabana",
                       "enoxaparina"),
    "antiagregante": ("clopidogrel", "ticagrelor", "aas infantil"),
    "anti-hipertensivo": ("losartana", "enalapril", "captopril", "valsartana", "anlodipino", "nifedipino",
                          "hidroclorotiazida", "furosemida", "espironolactona", "atenolol", "propranolol",
                          "carvedilol", "metoprolol"),
    "betabloqueador": ("atenolol", "propranolol", "carvedilol", "metoprolol"),
    "diuretico": ("hidroclorotiazida", "furosemida", "espironolactona"),
    "antidiabetico": ("metformina", "insulina", "glibenclamida", "gliclazida", "sitagliptina", "dapagliflozina",
                      "empagliflozina"),
    "litio": ("carbonato de litio",),
    "antidepressivo": ("fluoxetina", "sertralina", "escitalopram", "paroxetina", "citalopram", "amitriptilina",
                       "nortriptilina"),
    "antidepressivo triciclico": ("amitriptilina", "nortriptilina"),
    "imao": ("tranilcipromina", "selegilina"),
    "benzodiazepinico": ("clonazepam", "alprazolam", "diazepam", "bromazepam", "lorazepam"),
    "opioide": ("tramadol", "codeina"),
    "corticoide": ("prednisona", "prednisolona", "dexametasona"),
    "nitrato": ("nitroglicerina",),
    "antifungico": ("fluconazol", "nistatina"),
}

# What the patient says about a class without naming a medicine ("tomo anticoagulante").
CLASS_PHRASES: dict[str, tuple[str, ...]] = {
    "anticoagulante": ("anticoagulante", "remédio pra afinar o sangue", "remédio para afinar o sangue",
                       "afinar o sangue"),
    "anti-hipertensivo": ("remédio de pressão", "remédio pra pressão", "remédio para pressão",
                          "remédio da pressão"),
    "antidiabetico": ("remédio de diabetes", "remédio pra diabetes", "remédio da diabetes", "remédio de açúcar"),
    "antidepressivo": ("antidepressivo", "remédio pra depressão", "remédio de depressão"),
    "benzodiazepinico": ("tarja preta", "calmante controlado", "remédio controlado"),
    "corticoide": ("corticoide", "cortisona"),
}

# A class someone takes tells a condition the catalog's contraindications already name.
CLASS_CONDITIONS: dict[str, str] = {
    "anticoagulante": "anticoagulante",
    "antiagregante": "anticoagulante",
    "anti-hipertensivo": "hipertensao",
    "betabloqueador": "hipertensao",
    "antidiabetico": "diabetes",
}
# fmt: on
