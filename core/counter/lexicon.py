"""Portuguese vocabulary of the counter: what customers say, mapped to canonical concepts.

Two independent vocabularies: **needs** (symptoms and situations a product is for) and **conditions**
(what makes a product unsafe for this customer: pregnancy, hypertension, a child...). The same
sentence can feed both ("gastrite" is a need for an antacid and a reason to avoid anti-inflammatories).

Phrases are written as people say them at a counter, accents optional (they are normalized away,
plurals too). A catalog's indications and contraindications go through the same vocabularies, so a
catalog that says "cefaleia" and a customer who says "minha cabeça tá explodindo" meet on
``dor_cabeca``. Phrases the vocabulary does not know still work literally (see ``catalog``).
"""

from __future__ import annotations

# concept -> phrases. Multi-word phrases tolerate a couple of filler words between their words
# ("cabeça tá doendo" matches "cabeca doendo"), within one clause.
# fmt: off
NEEDS: dict[str, tuple[str, ...]] = {
    "dor_cabeca": (
        "dor de cabeça", "dor na cabeça", "cefaleia", "cabeça doendo", "cabeça dói", "cabeça latejando",
        "cabeça explodindo", "cabeça pesada", "cabeça estourando",
    ),
    "enxaqueca": ("enxaqueca", "migrânea", "crise de enxaqueca"),
    "febre": ("febre", "febril", "temperatura alta", "febrão", "ardendo em febre", "quente de febre"),
    "dor_corpo": ("dor no corpo", "corpo doendo", "corpo dói", "dor pelo corpo", "corpo todo doendo", "corpo moído"),
    "dor_muscular": (
        "dor muscular", "músculo doendo", "dor no músculo", "músculo dói", "distensão", "contratura",
        "dolorido da academia", "dor de academia", "perna dolorida", "dor na perna",
    ),
    "dor_costas": (
        "dor nas costas", "costas doendo", "costas dói", "dor lombar", "lombalgia", "dor na lombar", "dor na coluna",
        "coluna doendo", "travou as costas",
    ),
    "torcicolo": ("torcicolo", "pescoço travado", "dor no pescoço", "pescoço doendo"),
    "contusao": (
        "torção", "torci o pé", "torci o tornozelo", "pé torcido", "entorse", "pancada", "contusão", "hematoma",
        "torceu o pé", "torceu o tornozelo", "torceu o joelho", "torceu o pulso", "torci o joelho", "torci o pulso",
        "tornozelo torcido", "virou o pé", "virei o pé",
        "bati o joelho", "levei uma batida", "tornozelo inchado",
    ),
    "dor": ("dor", "dolorido", "remédio pra dor", "algo pra dor", "analgésico"),
    "inflamacao": ("inflamação", "inflamado", "inflamada", "anti-inflamatório", "anti inflamatório"),
    "colica_menstrual": (
        "cólica menstrual", "cólica da menstruação", "dor da menstruação", "cólica de menstruação",
        "menstruada com cólica", "cólica quando menstruo",
    ),
    "colica": ("cólica", "dor de barriga", "barriga doendo", "dor na barriga", "dor abdominal", "cólica intestinal"),
    "colica_bebe": (
        "cólica do bebê", "cólica de bebê", "bebê com cólica", "nenê com cólica", "cólica de recém-nascido",
    ),
    "gases": (
        "gases", "gás", "barriga estufada", "estufamento", "barriga inchada", "flatulência", "estufado", "estufada",
    ),
    "azia": (
        "azia", "queimação", "queimação no estômago", "estômago queimando", "refluxo", "pirose", "acidez",
        "queimando no peito", "gastrite",
    ),
    "ma_digestao": (
        "má digestão", "indigestão", "comi demais", "empachado", "empachada", "estômago pesado", "dispepsia",
    ),
    "diarreia": ("diarreia", "intestino solto", "barriga solta", "soltura", "caganeira", "desarranjo"),
    "desidratacao": (
        "desidratação", "desidratado", "desidratada", "reidratação", "soro caseiro", "soro de reidratação",
    ),
    "vomito": ("vômito", "vomitando", "vomitei", "vomitou", "vomitar"),
    "enjoo": (
        "enjoo", "enjoado", "enjoada", "náusea", "ânsia de vômito", "enjoo de viagem", "enjoa no carro",
        "enjoa no ônibus", "enjoa de carro", "cinetose", "mareado",
    ),
    "tontura": ("tontura", "tonto", "tonta", "labirintite", "vertigem"),
    "prisao_ventre": (
        "prisão de ventre", "intestino preso", "constipação intestinal", "intestino travado", "sem ir ao banheiro",
        "sem evacuar", "não consigo evacuar", "laxante",
    ),
    "gripe": ("gripe", "gripado", "gripada", "resfriado", "resfriada", "resfriamento", "antigripal"),
    "nariz_entupido": (
        "nariz entupido", "congestão nasal", "nariz trancado", "nariz tapado", "nariz fechado", "nariz congestionado",
        "não consigo respirar pelo nariz", "descongestionante", "sinusite",
    ),
    "coriza": ("coriza", "nariz escorrendo", "nariz pingando", "escorrendo o nariz", "nariz correndo"),
    "espirro": ("espirro", "espirrando", "espirrar", "crise de espirro"),
    "nariz_seco": ("nariz seco", "lavagem nasal", "lavar o nariz", "limpar o nariz", "higiene nasal"),
    "rinite": ("rinite", "rinite alérgica"),
    "alergia": ("alergia", "alérgico", "alérgica", "antialérgico", "crise alérgica"),
    "coceira": ("coceira", "coçando", "coça muito", "prurido", "comichão"),
    "urticaria": ("urticária", "placas vermelhas", "vergões", "empolado", "empolada", "empolou"),
    "picada_inseto": (
        "picada de inseto", "picada de mosquito", "picada de pernilongo", "mordida de inseto", "picado de mosquito",
        "picada de formiga", "muriçoca",
    ),
    "repelente": ("repelente", "espantar mosquito", "proteger do mosquito", "afastar mosquito"),
    "tosse_seca": ("tosse seca", "tosse irritativa", "tosse sem catarro", "tosse de cachorro", "tossinha seca"),
    "tosse_catarro": (
        "tosse com catarro", "tosse produtiva", "catarro", "secreção", "catarrento", "peito cheio", "expectorante",
        "expectorar", "peito carregado",
    ),
    "tosse": ("tosse", "tossindo", "tossir", "xarope pra tosse"),
    "dor_garganta": (
        "dor de garganta", "garganta doendo", "garganta dói", "garganta inflamada", "garganta irritada",
        "dor pra engolir", "dor ao engolir", "garganta arranhando", "faringite", "amigdalite", "garganta raspando",
        "pra garganta", "remédio pra garganta", "pastilha pra garganta",
    ),
    "rouquidao": ("rouquidão", "rouco", "rouca", "perdi a voz", "fiquei sem voz"),
    "afta": ("afta", "ferida na boca", "machucado na boca", "estomatite", "feridinha na boca"),
    "dor_dente": ("dor de dente", "dente doendo", "dente dói", "dor no dente", "odontalgia", "dente inflamado"),
    "herpes_labial": ("herpes", "herpes labial", "bolha no lábio", "ferida no lábio", "bolhinha no lábio"),
    "micose": (
        "micose", "frieira", "pé de atleta", "fungo", "coceira na virilha", "impingem", "pano branco",
        "coceira entre os dedos", "micose de unha",
    ),
    "candidiase": ("candidíase", "corrimento com coceira", "cândida", "coceira íntima", "corrimento branco"),
    "caspa": ("caspa", "dermatite seborreica", "couro cabeludo descamando", "seborreia"),
    "assadura": (
        "assadura",
        "assadinho",
        "pele assada",
        "assadura de fralda",
        "brotoeja",
        "vermelho da fralda",
        "vermelha da fralda",
        "vermelhinha da fralda",
        "assada da fralda",
    ),
    "pele_ressecada": (
        "pele ressecada", "pele seca", "rachadura", "pele rachada", "mamilo rachado", "bico do peito rachado",
        "cicatrizante", "tatuagem", "lábio rachado",
    ),
    "ferida": (
        "ferida", "machucado", "arranhão", "corte", "esfolado", "ralado", "ralei o joelho", "ferimento", "machuquei",
        "me cortei", "curativo",
    ),
    "queimadura": (
        "queimadura", "me queimei", "queimei a mão", "queimei o braço", "queimado de sol", "queimadura leve",
    ),
    "piolho": ("piolho", "lêndea", "cabeça com piolho"),
    "olho_seco": (
        "olho seco", "olho irritado", "vista cansada", "ardência nos olhos", "olho ardendo", "lágrima artificial",
        "olho cansado", "colírio lubrificante", "olho arde",
    ),
    "olho_vermelho": ("olho vermelho", "conjuntivite", "coceira no olho", "olho coçando", "olho lacrimejando"),
    "insonia": (
        "insônia", "não consigo dormir", "dificuldade para dormir", "dificuldade pra dormir", "durmo mal",
        "dormindo mal", "perdi o sono", "algo pra dormir", "remédio pra dormir", "demoro pra dormir",
    ),
    "ansiedade": (
        "ansiedade", "ansioso", "ansiosa", "nervosismo", "muito nervoso", "muito nervosa", "estresse", "estressado",
        "estressada", "calmante",
    ),
    "cansaco": ("cansaço", "falta de energia", "sem energia", "desânimo", "indisposição", "fraqueza"),
    "imunidade": ("imunidade", "imunidade baixa", "prevenir gripe", "vitamina c", "resistência baixa"),
    "vitamina": ("vitamina", "suplemento", "polivitamínico", "multivitamínico"),
    "parar_fumar": (
        "parar de fumar", "largar o cigarro", "deixar de fumar", "tabagismo", "vontade de fumar", "largar de fumar",
    ),
    "teste_gravidez": (
        "teste de gravidez", "atraso menstrual", "menstruação atrasada", "menstruação não veio",
        "minha menstruação atrasou",
    ),
    "gestacao_suplemento": ("vitamina pra gestante", "vitamina de gestante", "ácido fólico", "tentando engravidar"),
    "disfuncao_eretil": ("disfunção erétil", "impotência", "azulzinho"),
    "infeccao": ("infecção", "antibiótico", "pus na garganta", "placa na garganta", "infecção urinária"),
}
# fmt: on

# Conditions that contraindicate products. Catalog contraindications use these names or phrases.
# fmt: off
CONDITIONS: dict[str, tuple[str, ...]] = {
    "gravidez": (
        "grávida", "gestante", "gravidez", "gestação", "esperando bebê", "esperando um bebê", "pré-natal", "gravidinha",
        "engravidei",
    ),
    "amamentacao": ("amamentando", "amamentação", "lactante", "dando de mamar", "dando peito", "lactação"),
    "hipertensao": (
        "pressão alta", "hipertenso", "hipertensa", "hipertensão", "remédio de pressão", "remédio pra pressão",
        "problema de pressão", "problema no coração", "problema de coração", "cardíaco", "cardíaca", "arritmia",
        "losartana", "tomo captopril", "pressão alterada",
    ),
    "crianca": (
        "criança", "meu filho", "minha filha", "bebê", "nenê", "infantil", "pediátrico", "meu neto", "minha neta",
        "menino", "menina", "menores de 12 anos", "menor de 12 anos", "recém-nascido", "meu sobrinho", "minha sobrinha",
    ),
    "dengue": ("dengue", "suspeita de dengue", "zika", "chikungunya"),
    "ulcera": ("úlcera", "gastrite", "sangramento no estômago", "úlcera gástrica"),
    "asma": ("asma", "asmático", "asmática", "bronquite asmática", "bronquite"),
    "anticoagulante": (
        "anticoagulante", "varfarina", "marevan", "afinar o sangue", "rivaroxabana", "xarelto", "clopidogrel",
    ),
    "diabetes": ("diabetes", "diabético", "diabética", "açúcar no sangue", "glicose alta"),
    "glaucoma": ("glaucoma", "pressão no olho", "pressão ocular"),
    "figado": ("problema no fígado", "doença do fígado", "hepatite", "cirrose", "fígado", "bebo muito"),
    "rins": (
        "problema nos rins", "problema no rim", "insuficiência renal", "pedra no rim", "cálculo renal", "doença renal",
    ),
}
# fmt: on

# What the clerk sees in explanations.
LABELS: dict[str, str] = {
    "dor_cabeca": "dor de cabeça",
    "enxaqueca": "enxaqueca",
    "febre": "febre",
    "dor_corpo": "dor no corpo",
    "dor_muscular": "dor muscular",
    "dor_costas": "dor nas costas",
    "torcicolo": "torcicolo",
    "contusao": "torção/pancada",
    "dor": "dor",
    "inflamacao": "inflamação",
    "colica_menstrual": "cólica menstrual",
    "colica": "cólica",
    "colica_bebe": "cólica do bebê",
    "gases": "gases",
    "azia": "azia/queimação",
    "ma_digestao": "má digestão",
    "diarreia": "diarreia",
    "desidratacao": "desidratação",
    "vomito": "vômito",
    "enjoo": "enjoo",
    "tontura": "tontura",
    "prisao_ventre": "intestino preso",
    "gripe": "gripe/resfriado",
    "nariz_entupido": "nariz entupido",
    "coriza": "coriza",
    "espirro": "espirros",
    "nariz_seco": "nariz seco",
    "rinite": "rinite",
    "alergia": "alergia",
    "coceira": "coceira",
    "urticaria": "urticária",
    "picada_inseto": "picada de inseto",
    "repelente": "proteção contra mosquitos",
    "tosse_seca": "tosse seca",
    "tosse_catarro": "tosse com catarro",
    "tosse": "tosse",
    "dor_garganta": "dor de garganta",
    "rouquidao": "rouquidão",
    "afta": "afta",
    "dor_dente": "dor de dente",
    "herpes_labial": "herpes labial",
    "micose": "micose",
    "candidiase": "candidíase",
    "caspa": "caspa",
    "assadura": "assadura",
    "pele_ressecada": "pele ressecada",
    "ferida": "ferimento",
    "queimadura": "queimadura",
    "piolho": "piolho",
    "olho_seco": "olho seco/irritado",
    "olho_vermelho": "olho vermelho",
    "insonia": "dificuldade para dormir",
    "ansiedade": "ansiedade",
    "cansaco": "cansaço",
    "imunidade": "imunidade",
    "vitamina": "vitamina",
    "parar_fumar": "parar de fumar",
    "teste_gravidez": "suspeita de gravidez",
    "gestacao_suplemento": "suplemento na gestação",
    "infeccao": "infecção",
    "disfuncao_eretil": "disfunção erétil",
    "gravidez": "gravidez",
    "amamentacao": "amamentação",
    "hipertensao": "pressão alta/coração",
    "crianca": "criança",
    "dengue": "suspeita de dengue",
    "ulcera": "úlcera/gastrite",
    "asma": "asma",
    "anticoagulante": "uso de anticoagulante",
    "diabetes": "diabetes",
    "glaucoma": "glaucoma",
    "figado": "problema no fígado",
    "rins": "problema nos rins",
}

# A more specific need implies a broader one: "enxaqueca" is a headache, "tosse seca" a cough.
# fmt: off
IMPLIES: dict[str, tuple[str, ...]] = {
    "enxaqueca": ("dor_cabeca",),
    "tosse_seca": ("tosse",),
    "tosse_catarro": ("tosse",),
    # A specific pain is pain: a plain analgesic answers it when the specific products are unsafe
    # (a pregnant woman's back pain, a sprain on warfarin).
    "dor_costas": ("dor",),
    "dor_muscular": ("dor",),
    "torcicolo": ("dor",),
    "contusao": ("dor",),
}

# Needs that exclude each other: a product for one fits the other badly (a mucolytic for a dry cough).
OPPOSITES: dict[str, str] = {"tosse_seca": "tosse_catarro", "tosse_catarro": "tosse_seca"}
# fmt: on

# Brand and colloquial names of active ingredients: "tem novalgina?" asks for dipirona.
# fmt: off
INGREDIENT_ALIASES: dict[str, tuple[str, ...]] = {
    "dipirona": ("novalgina", "metamizol", "anador"),
    "paracetamol": ("tylenol", "acetaminofeno"),
    "ácido acetilsalicílico": ("aspirina", "aas", "melhoral"),
    "ibuprofeno": ("advil", "alivium", "buscofem"),
    "naproxeno": ("flanax",),
    "butilbrometo de escopolamina": ("buscopan", "escopolamina", "hioscina"),
    "orfenadrina": ("dorflex",),
    "isometepteno": ("neosaldina",),
    "dimenidrinato": ("dramin",),
    "loratadina": ("claritin",),
    "omeprazol": (),
    "simeticona": ("luftal",),
    "loperamida": ("imosec",),
    "bisacodil": ("dulcolax",),
    "clonazepam": ("rivotril",),
    "sildenafila": ("viagra",),
    "metoclopramida": ("plasil",),
    "amoxicilina": ("amoxil",),
    "azitromicina": (),
    "ciclobenzaprina": ("miosan",),
    "nafazolina": ("sorine", "neosoro"),
    "oximetazolina": ("afrin",),
    "acetilcisteína": ("fluimucil",),
    "ambroxol": ("mucosolvan",),
    "dexpantenol": ("bepantol",),
    "óxido de zinco": ("hipoglós",),
    "anti-inflamatório": ("antiinflamatorio",),
}
# fmt: on

# Classes customers name when they tell an allergy ("alérgico a anti-inflamatório").
# fmt: off
INGREDIENT_CLASSES: dict[str, tuple[str, ...]] = {
    "anti-inflamatório": ("ibuprofeno", "naproxeno", "diclofenaco", "ácido acetilsalicílico", "flurbiprofeno"),
    "penicilina": ("amoxicilina",),
}
# fmt: on
