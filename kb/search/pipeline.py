"""What both backends share: document analysis, the weighted query, filters, highlights.

A backend's only job is to translate these plain structures into its
engine's queries and documents, so ranking rules live here, once.

Ranking: one flat weighted OR. Each query token is a group of alternatives
(itself 1.0, synonyms 0.8); every alternative in every field is a term
clause weighted by alternative weight × field boost (question 3, similar
questions 2.5, keywords 2, answer 1), and BM25 scores add up. A question (or
similar question) containing all the query's words adds a bonus on top, so
"the question says what the caller said" ranks first. The kind of question
(how, where, whether…: the folded question words) is matched in the question
fields, so "X在哪里办" prefers "到哪里办X" over "X怎么办". Ticket mode builds the
groups from the text's TF-IDF keywords instead of all its tokens.

Why flat: tantivy evaluates one boolean of term queries several times faster
than nested per-group dis-max booleans (p95 1.4 ms against 3.2 ms at 100k
entries), and on the development sets the dis-max gained nothing measurable
(MRR within ±0.005).
"""
from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import ahocorasick
import orjson

from kb.search import analyzer
from kb.search.backend import AnalyzedDocument, SearchDocument, SearchQuery
from kb.search.synonyms import SynonymSet

FIELD_BOOSTS: Mapping[str, float] = {
    "question": 3.0,
    "similar": 2.5,
    "keywords": 2.0,
    "answer": 1.0,
}
TEXT_FIELDS: tuple[str, ...] = tuple(FIELD_BOOSTS)
# Fields that hold phrasings of the question itself (suggest, related, co-occurrence).
QUESTION_FIELDS: tuple[str, ...] = ("question", "similar")

FAR_FUTURE = date(9999, 12, 31)  # stands for "no expiry date" in the index
SUGGEST_SEPARATOR = "\x1f"  # between the normalized and the display form of a suggestion term

# Co-occurrence bonus (all words of the query in one question): gov paraphrases
# MRR 0.819 without, 0.844 with; afqmc 0.051 → 0.052; +0.6 ms p95 at 100k.
# (Every pair of words instead: 0.839 / 0.054 but +1.7 ms p95.)
TOGETHER_BOOST = 1.0
TOGETHER_WORDS = 8
# The query's question words (analyzer.QUESTION_WORDS: how / where / what / why / whether / can),
# matched in the question phrasings only: gov paraphrases MRR 0.854 → 0.890, afqmc 0.054 → 0.057.
# Their weight: 0.5 → 0.889 / 0.054, 1.0 → 0.890 / 0.057, 1.5 → 0.887 / 0.056 (BM25's IDF
# already makes a common word weigh little). In every field instead: same MRR, 2 more clauses.
QUESTION_WORD_WEIGHT = 1.0
QUESTION_WORD_FIELDS: tuple[str, ...] = QUESTION_FIELDS
SUBWORD_WEIGHT = 0.4  # 住房公积金 also finds 公积金, below the whole word and its synonyms
TICKET_SYNONYM_FACTOR = 0.5  # long texts say most things several ways already; full-weight synonyms add noise
TICKET_KEYWORDS = 60  # measured: 20 → MRR 0.80, 60 → 0.87, 100 → 0.88 at higher cost
# A pasted ticket is the citizen's account of the matter, and the right entry's standard question is a
# summary of it: nearly all of that question is in the ticket, while a near miss shares many terms with the
# account but asks something else. So the lexical side's leading candidates (of its first
# TICKET_RESCORE_DEPTH, those whose BM25 is at least TICKET_RESCORE_SHARE of the first's: where the
# lexical side cannot tell them apart) are scored again: BM25 over the first's, plus TICKET_COVERAGE_WEIGHT
# × how much of the candidate's question (its best phrasing) the ticket contains (ticket_coverage: words
# weighed by a general corpus's IDF, so 需要哪些材料 counts for less than 居住证, and character pairs, which
# no segmentation splits differently). Below that share the BM25 order stands, so a question's common
# words cannot lift an entry with little else in common (in a small knowledge base, without the share,
# 工伤认定申请需要哪些材料 came fourth for a school-enrolment ticket). Gov tickets (1,369): R@1 0.824 → 0.857,
# MRR 0.879 → 0.905; 5-fold cross-validation chose 1, 1, 1.5, 1.5, 1.5 (held out R@1 0.855), weights
# 0.75-1.5 give 0.855-0.858. Words alone gave 0.851 (held out 0.847), pairs alone 0.854 (0.850); a
# product, BM25 × (1 + w × share), 0.848. Depth 20 and 50 rank alike; the depth bounds the stored fields a
# ticket search reads.
TICKET_RESCORE_DEPTH = 20
TICKET_RESCORE_SHARE = 0.5
TICKET_COVERAGE_WEIGHT = 1.5
RELATED_QUESTION_TOKENS = 24
RELATED_ANSWER_KEYWORDS = 10
MAX_FACET_BUCKETS = 100  # largest buckets per facet a backend returns (tantivy; whoosh returns all)
ANSWER_SNIPPET_CHARS = 120


def day_number(day: date) -> int:
    """A date as the integer stored in the index: 2024-03-01 → 20240301."""
    return day.year * 10000 + day.month * 100 + day.day


# -- documents ---------------------------------------------------------------
def analyze_document(doc: SearchDocument) -> AnalyzedDocument:
    question = analyzer.normalize(doc.question)
    answer = analyzer.normalize(doc.answer)
    similar = [analyzer.normalize(q) for q in doc.similar_questions]
    fields = {
        "question": analyzer.joined(analyzer.index_tokens(question, question_words=True)),
        "similar": analyzer.joined(t for q in similar for t in analyzer.index_tokens(q, question_words=True)),
        "keywords": analyzer.joined(t for k in doc.keywords for t in analyzer.tokenize_for_index(k)),
        "answer": analyzer.joined(analyzer.index_tokens(answer)),
    }
    suggestions: dict[str, None] = {}
    for phrase, normalized in zip((doc.question, *doc.similar_questions), (question, *similar)):
        display = " ".join(phrase.split())
        folded = " ".join(normalized.split())
        if folded:
            suggestions[f"{folded}{SUGGEST_SEPARATOR}{display}"] = None
    stored: dict[str, Any] = {
        "question": doc.question,
        "similar_questions": list(doc.similar_questions),
        "keywords": list(doc.keywords),
        "answer": doc.answer,
        "category_path": list(doc.category_path),
        "unit_code": doc.unit_code,
        "payload": dict(doc.payload),
    }
    # Highlighting matches on normalized text; store it only where lower() does not give it.
    for name, normalized in (("question", question), ("answer", answer)):
        if normalized != stored[name].lower():
            stored["folded_" + name] = normalized
    return AnalyzedDocument(
        entry_id=int(doc.entry_id),
        fields=fields,
        categories=tuple(int(c) for c in doc.category_path),
        category_leaf=int(doc.category_path[-1]) if doc.category_path else -1,
        unit_code=doc.unit_code,
        effective_on=day_number(doc.effective_on),
        expires_on=day_number(doc.expires_on or FAR_FUTURE),
        suggestions=tuple(suggestions),
        stored=json.dumps(stored, ensure_ascii=False, separators=(",", ":")),
    )


def phrasings(doc: SearchDocument) -> tuple[str, ...]:
    """What an entry's vectors are computed from: its question, then each similar question."""
    return (doc.question, *doc.similar_questions)


def split_suggestion(term: str) -> tuple[str, str]:
    normalized, _, display = term.partition(SUGGEST_SEPARATOR)
    return normalized, display or normalized


# -- queries -----------------------------------------------------------------
Alternative = tuple[str, float]  # space-joined tokens (all must match in one field), weight


@dataclass(frozen=True)
class WeightedQuery:
    """A query as token groups of weighted alternatives, OR-ed flat by the engines.

    ``question_words`` are (word, weight) clauses in ``question_word_fields`` only.

    ``together`` lists the groups of the query's distinct words: a document
    whose ``together_fields`` field holds every one of those words (each
    group's first alternative, the word as typed) earns ``together_boost`` ×
    that field's boost per word on top: the co-occurrence bonus.
    """

    groups: tuple[tuple[Alternative, ...], ...]
    field_boosts: Mapping[str, float]
    together: tuple[int, ...] = ()
    together_fields: tuple[str, ...] = QUESTION_FIELDS
    together_boost: float = TOGETHER_BOOST
    # The kind of question asked (analyzer.question_words), one clause per word and question field;
    # not in ``groups``: no synonyms, sub-words, highlighting or co-occurrence bonus.
    question_words: tuple[Alternative, ...] = ()
    question_word_fields: tuple[str, ...] = QUESTION_WORD_FIELDS

    def clauses(self) -> list[tuple[str, str, float]]:
        """(field, alternative, weight) of every clause a document may match by, bonus excluded."""
        return [
            (field, alternative, round(boost * weight, 4))
            for group in self.groups
            for field, boost in self.field_boosts.items()
            for alternative, weight in group
        ]

    def question_word_clauses(self) -> list[tuple[str, str, float]]:
        """(field, word, weight) of the question words: they add to the score of a document that
        matches otherwise, and never make one match (怎么 alone would match half the questions)."""
        return [
            (field, word, round(self.field_boosts[field] * weight, 4))
            for word, weight in self.question_words
            for field in self.question_word_fields
            if field in self.field_boosts
        ]

    def scoring_clauses(
        self, doc_freq: Callable[[str, str], int], num_docs: int
    ) -> tuple[list[tuple[str, str, float]], list[tuple[str, str, float]]]:
        """(matching, adding): a document must match one of the first (or the co-occurrence bonus);
        the others (common terms, question words) only add to its score."""
        matching, common = split_common_terms(self.clauses(), doc_freq, num_docs)
        return matching, common + self.question_word_clauses()

    def together_clauses(self) -> list[tuple[str, list[tuple[str, float]]]]:
        """Per bonus field: the (word, weight) that must all be present."""
        if len(self.together) < 2:
            return []
        return [
            (field, [(self.groups[i][0][0], round(self.field_boosts.get(field, 1.0) * self.together_boost, 4))
                     for i in self.together])
            for field in self.together_fields
        ]

    @cached_property
    def terms(self) -> tuple[str, ...]:
        """Every single token of every alternative, longest first (for highlighting)."""
        found = {tok for group in self.groups for alt, _ in group for tok in alt.split()}
        return tuple(sorted(found, key=lambda t: (-len(t), t)))


@dataclass(frozen=True)
class Filters:
    today: int  # day_number: in effect when effective_on <= today <= expires_on
    category_id: int | None = None
    unit_codes: tuple[str, ...] = ()
    exclude_entry_id: int | None = None


def query_terms(query: SearchQuery, synonyms: SynonymSet) -> tuple[str, ...]:
    """The tokens a page of results for ``query`` highlights (none when nothing searchable is left)."""
    weighted = build_query(query, synonyms)
    return weighted.terms if weighted is not None else ()


def filters_for(query: SearchQuery) -> Filters:
    return Filters(
        today=day_number(query.today),
        category_id=query.category_id,
        unit_codes=tuple(dict.fromkeys(query.unit_codes)),
    )


def distinct_words(tokens: Sequence[str]) -> tuple[int, ...]:
    """Indexes of the query's words that are not part of another query word, at most TOGETHER_WORDS."""
    words = [
        i for i, token in enumerate(tokens)
        if not any(token != other and token in other for other in tokens)
    ]
    return tuple(words[:TOGETHER_WORDS])


def _weighted(
    groups: Sequence[Sequence[Alternative]], scale: Sequence[float] | None = None
) -> tuple[tuple[Alternative, ...], ...]:
    out = []
    for i, group in enumerate(groups):
        factor = scale[i] if scale is not None else 1.0
        out.append(tuple((alt, round(weight * factor, 4)) for alt, weight in group))
    return tuple(out)


def with_subwords(groups: list[list[Alternative]]) -> list[list[Alternative]]:
    """Adds each word's sub-words to its group at SUBWORD_WEIGHT."""
    for group in groups:
        present = {alternative for alternative, _ in group}
        subs = analyzer.subwords(group[0][0])
        for sub in subs:
            if any(sub != other and sub in other for other in subs):
                continue  # 公积 inside the sub-word 公积金 adds a clause, not a document: same MRR
            if sub not in present:
                group.append((sub, SUBWORD_WEIGHT))
                present.add(sub)
    return groups


def build_query(query: SearchQuery, synonyms: SynonymSet) -> WeightedQuery | None:
    """The weighted query for a SearchQuery, or None when nothing searchable is left."""
    text = query.text or ""
    if query.mode == "ticket":
        keywords = analyzer.ticket_keywords(text, top_k=TICKET_KEYWORDS)
        if not keywords:
            return None
        tokens = [k for k, _ in keywords]
        # sqrt flattens TF-IDF weights: the engine's BM25 weighs rarity again.
        expanded = [
            [group[0], *((alt, weight * TICKET_SYNONYM_FACTOR) for alt, weight in group[1:])]
            for group in synonyms.expand(tokens)
        ]
        groups = _weighted(expanded, [w**0.5 for _, w in keywords])
        return WeightedQuery(groups=groups, field_boosts=FIELD_BOOSTS)
    tokens = analyzer.tokenize_query(text)
    if not tokens:
        return None
    groups = _weighted(with_subwords(synonyms.expand(tokens)))
    return WeightedQuery(
        groups=groups,
        field_boosts=FIELD_BOOSTS,
        together=distinct_words(tokens),
        question_words=tuple((word, QUESTION_WORD_WEIGHT) for word in analyzer.question_words(text)),
    )


# Common terms (Lucene's CommonTermsQuery): a term in more than COMMON_TERM_SHARE
# of an index's documents (办理, 材料, 申请 in answers) scores little under BM25
# but, as one of the OR-ed clauses, makes the engine visit most documents. So
# such terms only add to the score of documents that match a rarer term of the
# query: the same ranking for every document that matches one, while documents
# matching nothing but common words drop out. At 100k entries: query p50/p95
# 2.1/4.0 → 1.4/2.7 ms, the same ten results for each of 300 queries checked.
# A term in more than NEGLIGIBLE_TERM_SHARE of the documents (boilerplate in
# every answer) has an idf under ln(1 + 0.1/0.9) ≈ 0.1, against 5-10 for the
# words that tell answers apart: it is left out (p50/p95 1.6/2.9 → 1.3/2.3 ms
# at 100k, the same ten results for each of 300 queries checked). A query made
# only of common terms, and indexes under COMMON_TERM_MIN_DOCS (fast anyway),
# keep every term as it is. The share: 10 % → 3 % took p50 1.71 → 1.48 ms at 100k
# with the same ten results, in order, for each of 2,000 queries and the same MRR
# on every development set; 2 % changed 1.3 % of the top tens, 1 % (Lucene's
# usual cutoff) 10 %.
COMMON_TERM_SHARE = 0.03
NEGLIGIBLE_TERM_SHARE = 0.9
COMMON_TERM_MIN_DOCS = 1000


def split_common_terms(
    clauses: Sequence[tuple[str, str, float]], doc_freq: Callable[[str, str], int], num_docs: int
) -> tuple[list[tuple[str, str, float]], list[tuple[str, str, float]]]:
    """(rarer, common) scoring clauses; common = single-token terms over COMMON_TERM_SHARE, those over
    NEGLIGIBLE_TERM_SHARE left out. No common ones when the index is small or nothing rarer that any
    document has is left (then the common ones match, or failing them the negligible ones)."""
    if num_docs < COMMON_TERM_MIN_DOCS:
        return list(clauses), []
    cutoff, negligible = COMMON_TERM_SHARE * num_docs, NEGLIGIBLE_TERM_SHARE * num_docs
    rare, common, dropped = [], [], []
    for clause in clauses:
        field, alternative, _ = clause
        if " " in alternative:  # all of several tokens in one field: rare enough
            rare.append(clause)
            continue
        frequency = doc_freq(field, alternative)
        if frequency > negligible:
            dropped.append(clause)
        elif frequency > cutoff:
            common.append(clause)
        elif frequency:  # a term no document has cannot match: not a clause at all
            rare.append(clause)
    if rare:
        return rare, common
    return (common, []) if common else (dropped, [])


def related_query(stored: Mapping[str, Any], synonyms: SynonymSet) -> WeightedQuery | None:
    """More-like-this: the entry's question phrasings and keywords, plus its answer's keywords."""
    tokens: dict[str, float] = {}
    for phrase in [stored.get("question", ""), *stored.get("similar_questions", ()), *stored.get("keywords", ())]:
        for token in analyzer.tokenize_term(phrase):
            if len(tokens) >= RELATED_QUESTION_TOKENS:
                break
            tokens.setdefault(token, 1.0)
    for word, weight in analyzer.ticket_keywords(stored.get("answer", ""), top_k=RELATED_ANSWER_KEYWORDS):
        tokens.setdefault(word, 0.5 * weight)
    if not tokens:
        return None
    words = list(tokens)
    groups = _weighted(synonyms.expand(words), [tokens[w] for w in words])
    return WeightedQuery(groups=groups, field_boosts=FIELD_BOOSTS)


def suggestion_query(prefix: str, synonyms: SynonymSet) -> WeightedQuery | None:
    """Second-stage type-ahead: questions containing the typed words, when too few start with them."""
    tokens = analyzer.tokenize_query(prefix, max_tokens=8)
    if not tokens:
        return None
    return WeightedQuery(
        groups=_weighted(with_subwords(synonyms.expand(tokens))),
        field_boosts={"question": 3.0, "similar": 2.5},
        together=distinct_words(tokens),
    )


def rank_prefix_suggestions(terms: Sequence[str], limit: int) -> list[str]:
    """Suggestion terms that start with the prefix: shortest first, display forms, distinct."""
    seen: dict[str, None] = {}
    for term in sorted(terms, key=lambda t: (len(split_suggestion(t)[0]), t)):
        display = split_suggestion(term)[1]
        seen.setdefault(display, None)
        if len(seen) >= limit:
            break
    return list(seen)


def suggestions_from_hit(stored: Mapping[str, Any], wanted: WeightedQuery) -> list[str]:
    """The phrasings of a matched entry that contain a typed word, best first."""
    phrases = [stored.get("question", ""), *stored.get("similar_questions", ())]
    terms = wanted.terms
    scored = []
    for order, phrase in enumerate(phrases):
        normalized = analyzer.normalize(phrase)
        hits = sum(1 for t in terms if t in normalized)
        if hits:
            scored.append((-hits, order, " ".join(phrase.split())))
    return [p for _, _, p in sorted(scored)]


# -- highlights --------------------------------------------------------------
def _escape(text: str) -> str:
    return html.escape(text, quote=False)


class Highlighter:
    """Puts <em>…</em> around query tokens in stored question and answer text.

    Matching runs on the normalized text (stored at index time when it is
    more than the lower-cased original); when normalization kept the length,
    the original characters are shown, otherwise the normalized ones.
    Single-character tokens are marked only when the query has nothing
    longer, so 补 does not light up every 补. Text is HTML-escaped.
    """

    def __init__(self, terms: Sequence[str]) -> None:
        longer = [t for t in terms if len(t) > 1]
        chosen = longer or [t for t in terms if t]
        self._terms = tuple(dict.fromkeys(chosen))
        # One Aho-Corasick automaton per query finds every term in one pass over a text (in C): a
        # compiled regex alternation costs ~50× more to build, str.find per term ~5× more per text.
        self._automaton: Any = None
        if self._terms:
            self._automaton = ahocorasick.Automaton()
            for term in self._terms:
                self._automaton.add_word(term, len(term))
            self._automaton.make_automaton()

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """Where the terms occur, leftmost first and the longest at one place, not overlapping: what a
        regex alternation of the terms longest first finds."""
        if self._automaton is None or not text:
            return []
        found = [(end + 1 - size, -size) for end, size in self._automaton.iter(text)]
        if len(found) > 1:
            found.sort()
        spans, cursor = [], 0
        for at, negative_size in found:
            if at >= cursor:
                cursor = at - negative_size
                spans.append((at, cursor))
        return spans

    def mark(self, text: str, window: int | None = None, folded: str | None = None) -> str:
        if not text:
            return ""
        normalized = folded if folded is not None else text.lower()
        source = text if len(normalized) == len(text) else normalized
        start, end = 0, len(source)
        if window is not None and len(source) > window:
            # Only the window around the first match is shown, so only it is searched for matches (an
            # answer is ~3× the window and most of its matches were never shown). The earliest-ending
            # match starts at most one term's length after the leftmost one: within the window's lead.
            first = next(self._automaton.iter(normalized), None) if self._automaton is not None else None
            at = first[0] + 1 - first[1] if first else 0
            start = max(0, min(at - window // 4, len(source) - window))
            end = start + window
            spans = [(a + start, b + start) for a, b in self._spans(normalized[start:end])]
        else:
            spans = self._spans(normalized)
        parts = ["…"] if start > 0 else []
        cursor = start
        if "&" in source or "<" in source or ">" in source:
            for a, b in spans:
                parts += (_escape(source[cursor:a]), "<em>", _escape(source[a:b]), "</em>")
                cursor = b
            parts.append(_escape(source[cursor:end]))
        else:  # Chinese text rarely has any of them: the slices as they are
            for a, b in spans:
                parts += (source[cursor:a], "<em>", source[a:b], "</em>")
                cursor = b
            parts.append(source[cursor:end])
        if end < len(source):
            parts.append("…")
        return "".join(parts)

    def highlights(self, stored: Mapping[str, Any], phrasing: int | None = None) -> dict[str, str]:
        """Question and answer snippets; with ``phrasing`` (0 the question, then the similar questions: the
        one a semantic match came by), also ``matched_question``, so a match sharing no word with the
        query still shows why it was found."""
        marked = {
            "question": self.mark(stored.get("question", ""), folded=stored.get("folded_question")),
            "answer": self.mark(
                stored.get("answer", ""), window=ANSWER_SNIPPET_CHARS, folded=stored.get("folded_answer")
            ),
        }
        if phrasing is not None:
            phrases = [stored.get("question", ""), *stored.get("similar_questions", ())]
            if 0 <= phrasing < len(phrases):
                marked["matched_question"] = self.mark(" ".join(phrases[phrasing].split()))
        return marked


def character_pairs(text: str) -> set[str]:
    """The adjacent letter or digit pairs of the normalized text (a Chinese text's character bigrams)."""
    kept = "".join(filter(str.isalnum, analyzer.normalize(text)))
    return {kept[i : i + 2] for i in range(len(kept) - 1)}


def ticket_coverage(ticket: str, stored: Mapping[str, Any], ticket_pairs: set[str] | None = None) -> float:
    """How much (0-1) of the entry's best-covered question phrasing the normalized ``ticket`` contains:
    the mean of two measures of it, the share of its words (weighed by general IDF: the matter counts for
    more than the boilerplate) and the share of its character pairs, which do not depend on where the
    words are cut (the question's 随迁子女 is one word, not found in a ticket that says 随迁的子女; its
    pairs 随迁 and 子女 are). ``ticket_pairs``: the ticket's character pairs, when already at hand."""
    if ticket_pairs is None:
        ticket_pairs = character_pairs(ticket)
    best = 0.0
    for phrase in (stored.get("question", ""), *stored.get("similar_questions", ())):
        weights = [(word, analyzer.reference_idf(word)) for word in analyzer.tokenize_term(phrase)]
        total = sum(weight for _, weight in weights)
        pairs = character_pairs(phrase)
        if total and pairs:
            words = sum(weight for word, weight in weights if word in ticket) / total
            best = max(best, (words + len(pairs & ticket_pairs) / len(pairs)) / 2)
    return best


def leading_candidates(scores: Sequence[float]) -> int:
    """How many of a ticket search's candidates (BM25 scores, best first) are re-scored: of the first
    TICKET_RESCORE_DEPTH, those at TICKET_RESCORE_SHARE of the first's score or more."""
    top = scores[0] if scores else 0.0
    leading = 0
    while leading < min(TICKET_RESCORE_DEPTH, len(scores)) and scores[leading] >= TICKET_RESCORE_SHARE * top:
        leading += 1
    return leading


def rescore_ticket(text: str, scores: Sequence[float], stored: Sequence[Mapping[str, Any]]) -> list[tuple[int, float]]:
    """(index into ``scores``, new score), best first. ``scores``: a ticket search's BM25 scores, best
    first; ``stored``: the stored fields of its ``leading_candidates``. Those are re-scored by how much
    of their question the ticket contains; the rest keep their order and, scaled alike, stay below them,
    so every page of a ticket search agrees with the others."""
    if not scores:
        return []
    top = scores[0] or 1.0
    ticket = analyzer.normalize(text)
    pairs = character_pairs(ticket)
    head = sorted(((i, scores[i] / top + TICKET_COVERAGE_WEIGHT * ticket_coverage(ticket, fields, pairs))
                   for i, fields in enumerate(stored)), key=lambda item: -item[1])
    return head + [(i, scores[i] / top) for i in range(len(head), len(scores))]


def load_stored(raw: str | bytes) -> dict[str, Any]:
    return orjson.loads(raw)  # ten per search: a third of json's time
