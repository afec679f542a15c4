"""The Chinese analyzer: the one place where text becomes search tokens.

Documents and queries go through the same steps, once, in this module; the
engines only ever see whitespace-joined tokens and split them on whitespace.

1. ``normalize``: control characters become spaces, NFKC folds full-width
   forms (``ＳＯＳ`` → ``sos``, ``，`` → ``,``), lower-case, traditional →
   simplified (OpenCC ``t2s``).
2. Segmentation with rjieba (the Rust port of jieba, ~10× faster than jieba)
   in search mode: every word plus the dictionary words inside it, so a query
   for ``公积金`` finds ``住房公积金`` and a query for ``住房公积金`` finds it
   too. The segmenter gets a domain vocabulary (``domain_words.txt`` and
   the terms of ``synonyms_starter.txt``) so that terms such as
   ``最低生活保障`` or ``城乡居民医保`` stay whole.
3. Tokens without a letter or digit (punctuation, spaces) and a short list of
   function words are dropped.

Changing the vocabulary, the stopwords or the steps changes the tokens, so an
index built before must be rebuilt: bump ``ANALYZER_VERSION``.
"""
from __future__ import annotations

import importlib.util
import math
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import opencc
import rjieba

ANALYZER_VERSION = 2

_HERE = Path(__file__).resolve().parent
DOMAIN_WORDS_FILE = _HERE / "domain_words.txt"
STARTER_SYNONYMS_FILE = _HERE / "synonyms_starter.txt"

# Function words that carry no meaning for finding an answer. Measured (see
# docs/search.md): ranking is unchanged within noise (BM25's IDF already
# discounts them), but a query made only of them ("请问怎么办") finds nothing
# instead of everything, the co-occurrence bonus counts content words only,
# and queries run ~10% faster. Kept short on purpose: 办理 or 需要 can matter.
STOPWORDS: frozenset[str] = frozenset(
    """
    的 了 呢 吧 啊 呀 哦 着 过 地 得 之 也 都 就 还 又 很 太
    请问 请 麻烦 您好 你好 谢谢 一下 问一下 想问 想 知道
    我 你 您 他 她 它 我们 你们 他们 咱们 自己 这 那 这个 那个 这些 那些 这样 那样
    是 在 有 和 与 及 或 或者 以及 跟 把 被 对 从 向 给 让
    """.split()
)

# Question words (怎么, 哪里, 吗, 可以…) say what kind of question it is: how,
# where, what, why, whether, can. Like stopwords they are no query word,
# synonym term, ticket keyword or part of the co-occurrence bonus; but
# "X在哪里办" and "X怎么办" are different questions, so they are indexed,
# each folded to one word per kind (怎样, 如何 → 怎么), and a query's kinds
# are matched in the question fields (pipeline.QUESTION_WORD_WEIGHT).
QUESTION_WORDS: dict[str, str] = {
    **dict.fromkeys("怎么 怎样 怎么样 如何 咋 怎么办".split(), "怎么"),
    **dict.fromkeys("哪里 哪儿 哪 何处".split(), "哪里"),
    **dict.fromkeys("什么 啥 哪些 哪个".split(), "什么"),
    **dict.fromkeys("为什么 为何".split(), "为什么"),
    **dict.fromkeys("吗 么 嘛 是否".split(), "吗"),
    **dict.fromkeys("能 可以 能否 可否 能不能 可不可以 能够".split(), "可以"),
}

_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_MAX_TOKEN_CHARS = 40

_converter_lock = threading.Lock()


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _segmenter() -> rjieba.Jieba:
    segmenter = rjieba.Jieba()
    for word in domain_vocabulary():
        segmenter.add_word(word, None, None)
    return segmenter


@lru_cache(maxsize=1)
def domain_vocabulary() -> tuple[str, ...]:
    """Words the segmenter keeps whole: ``domain_words.txt`` and every starter synonym term.

    Starter synonym terms become single tokens, so synonym alternatives are
    single index terms (cheap term queries) rather than conjunctions.
    Terms made of a stopword and one character (丢了) are left to the
    segmenter.
    """
    words: dict[str, None] = {}
    for word in _read_word_list(DOMAIN_WORDS_FILE):
        words.setdefault(normalize(word), None)
    for term in _read_word_list(STARTER_SYNONYMS_FILE, separators="/,\t"):
        words.setdefault(normalize(term), None)
    return tuple(w for w in words if len(w) >= 2 and " " not in w)


def _read_word_list(path: Path, separators: str = "") -> list[str]:
    """Words of a list file: ``#`` comments, one word per line or per separator."""
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        for separator in separators:
            line = line.replace(separator, "\n")
        words.extend(w.strip() for w in line.split("\n") if w.strip())
    return words


def _strip_controls(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(
        " " if unicodedata.category(ch) in _CONTROL_CATEGORIES else ch for ch in text
    )


def normalize(text: str) -> str:
    """Fold text to the form that is indexed and searched.

    Full-width to half-width (NFKC), lower-case, traditional to simplified,
    control and format characters to spaces. Length is preserved for plain
    Chinese and ASCII text, which the highlighter relies on when it can.
    """
    if not text:
        return ""
    text = _strip_controls(text)
    text = unicodedata.normalize("NFKC", text).lower()
    with _converter_lock:
        text = _t2s().convert(text)
    return text


def _keep(token: str) -> bool:
    return (
        len(token) <= _MAX_TOKEN_CHARS
        and token not in STOPWORDS
        and token not in QUESTION_WORDS
        and any(ch.isalnum() for ch in token)
    )


def tokenize_for_index(text: str) -> list[str]:
    """Tokens of a document field, in order, duplicates kept (they are term frequencies)."""
    return index_tokens(normalize(text))


def index_tokens(normalized: str, question_words: bool = False) -> list[str]:
    """``tokenize_for_index`` for text that already went through ``normalize``.

    With ``question_words`` (for the question and its phrasings, the fields a
    query's question words are matched in), QUESTION_WORDS are kept, folded.
    """
    if not normalized.strip():
        return []
    if not question_words:
        return [t for t in _segmenter().cut_for_search(normalized) if _keep(t)]
    tokens = _segmenter().tokenize(normalized, "search")
    kept = []
    for i, (token, start, end) in enumerate(tokens):
        if token in QUESTION_WORDS:
            # Search mode gives 怎么 before 怎么样 and 什么 before 为什么: one question word, once.
            if not any(s <= start and end <= e for _, s, e in tokens[i + 1 : i + 4]):
                kept.append(QUESTION_WORDS[token])
        elif _keep(token):
            kept.append(token)
    return kept


def question_words(text: str) -> list[str]:
    """The kinds of question a typed text asks (QUESTION_WORDS, folded), distinct, in order."""
    normalized = normalize(text)
    if not normalized.strip():
        return []
    return list(dict.fromkeys(QUESTION_WORDS[t] for t in _segmenter().cut(normalized) if t in QUESTION_WORDS))


def tokenize_query(text: str, max_tokens: int = 64) -> list[str]:
    """Distinct words of a typed query (precise mode), in order, at most ``max_tokens``.

    Precise mode, not search mode: every precise word is also an index token,
    and the words inside a compound come separately, at lower weight, from
    ``subwords``. Measured on gov paraphrases, MRR 0.850 with search-mode
    query tokens, 0.860 with precise words plus weighted sub-words.
    """
    return list(dict.fromkeys(tokenize_term(text)))[:max_tokens]


def subwords(word: str) -> list[str]:
    """The dictionary words inside ``word`` that search mode also indexes (公积金 in 住房公积金)."""
    if len(word) <= 2:
        return []
    return list(dict.fromkeys(t for t in _segmenter().cut_for_search(word) if t != word and _keep(t)))


def tokenize_term(text: str) -> list[str]:
    """Precise-mode tokens of a short term (synonyms, keywords): no sub-words.

    Every precise-mode token is also produced by search mode, so a term
    tokenized here always matches the same text in an indexed document.
    """
    normalized = normalize(text)
    if not normalized.strip():
        return []
    return [t for t in _segmenter().cut(normalized) if _keep(t)]


@lru_cache(maxsize=1)
def _plain_segmenter() -> rjieba.Jieba:
    return rjieba.Jieba()


def term_components(text: str) -> list[str]:
    """A term as the general dictionary splits it, without the domain vocabulary.

    ``公积金取出`` is one token for the analyzer but ``公积金 取出`` here, so
    a query that says 公积金…取出 apart can still be recognised as that term.
    """
    normalized = normalize(text)
    if not normalized.strip():
        return []
    return [t for t in _plain_segmenter().cut(normalized) if _keep(t)]


def joined(tokens: Iterable[str]) -> str:
    """Tokens as the engines receive them: one string split on whitespace."""
    return " ".join(tokens)


@lru_cache(maxsize=1)
def _reference_idf() -> tuple[dict[str, float], float]:
    """Inverse document frequencies of a general Chinese corpus (jieba's table).

    Read from the jieba package data; jieba's own segmenter is never loaded.
    """
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return {}, 10.0
    path = Path(next(iter(spec.submodule_search_locations))) / "analyse" / "idf.txt"
    table: dict[str, float] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word, _, value = line.rstrip("\n").partition(" ")
            if value:
                table[word] = float(value)
    values = sorted(table.values())
    median = values[len(values) // 2] if values else 10.0
    return table, median


def reference_idf(word: str) -> float:
    """A word's IDF in a general Chinese corpus (jieba's table; the table's median for unseen words)."""
    table, default = _reference_idf()
    return table.get(word, default)


_PERSON_NAME_TAGS = frozenset({"nr", "nrfg", "nrt"})


def person_names(normalized: str) -> set[str]:
    """Words of normalized text that the segmenter tags as person names (jieba ``nr``), for redaction."""
    if not normalized.strip():
        return set()
    return {word for word, tag in _segmenter().tag(normalized) if tag in _PERSON_NAME_TAGS}


def ticket_keywords(
    text: str,
    top_k: int = 20,
    idf: Callable[[str], float | None] | None = None,
) -> list[tuple[str, float]]:
    """The ``top_k`` keywords of a long text (a citizen's description), weight 1.0 for the best.

    TF-IDF over the precise-mode words of at least two characters, stopwords
    dropped: weight = (1 + ln tf) × idf. ``idf`` may supply other values; by
    default jieba's table of a general Chinese corpus is used (the median for
    unseen words). Measured on the gov development tickets, a general IDF
    beats one taken from the indexed corpus (the engine's BM25 already weighs
    by corpus frequency), and filtering by part of speech loses the place and
    estate names that identify a matter.
    """
    normalized = normalize(text)
    if not normalized.strip() or top_k <= 0:
        return []
    table, default_idf = _reference_idf()
    counts: Counter[str] = Counter(
        word for word in _segmenter().cut(normalized) if len(word) >= 2 and _keep(word)
    )
    if not counts:
        return []
    scored: list[tuple[str, float]] = []
    for word, tf in counts.items():
        value = idf(word) if idf is not None else None
        if value is None:
            value = table.get(word, default_idf)
        scored.append((word, (1.0 + math.log(tf)) * value))
    scored.sort(key=lambda item: (-item[1], item[0]))
    scored = scored[:top_k]
    best = scored[0][1] or 1.0
    return [(word, round(weight / best, 4)) for word, weight in scored]
