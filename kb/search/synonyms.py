"""Synonym groups: what callers say (口语) and what the answers say (规范词).

A group is a set of interchangeable terms; any of them finds the others.
Terms are analysed by the same analyzer as queries, so a term may be one
token (``社保``) or several (``中断缴费`` → ``中断 缴费``).

``expand`` turns a query's tokens into groups of weighted alternatives, one
group per token: the token itself with weight 1.0 and its synonyms with a
lower weight. An alternative made of several tokens is written with spaces
(``"中断 缴费"``) and means "all of these tokens in the same field". When a
query contains a multi-token term, that term's synonyms join the group of
its first token.

A query token written in full pinyin (``shebao``, ``gongjijin``) gets the
terms whose pinyin it is as alternatives; only terms of these groups are
candidates, so the mapping stays precise. Initials (``sb``, ``gjj``) expand
the same way only where they are unambiguous among the groups: ``sb`` is
社保 and ``gjj`` 公积金, but ``db`` (低保 and 断缴) and ``ylbx`` (养老保险 and
医疗保险) expand to nothing. Of the starter list's 227 initialisms 218 are
unambiguous. A word outside the groups (邮编 for ``yb``) is not a candidate:
the office's synonym list is the vocabulary callers' abbreviations refer to.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from kb.search import analyzer

STARTER_FILE = Path(__file__).resolve().parent / "synonyms_starter.txt"

DEFAULT_SYNONYM_WEIGHT = 0.8
_SEPARATORS = re.compile(r"[/,\t，、]")
_MAX_TERM_CHARS = 30
_PINYIN_TOKEN = re.compile(r"[a-z]{4,30}")
_INITIALS_TOKEN = re.compile(r"[a-z]{2,8}")

Alternative = tuple[str, float]
TokenGroup = list[Alternative]


class SynonymFormatError(ValueError):
    """A line of a synonym list that cannot be read; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def parse_lines(text: str) -> list[tuple[str, ...]]:
    """Groups from the import format.

    One group per line, terms separated by ``/``, ``,`` (also ``，`` and
    ``、``) or tabs, ``#`` starts a comment, blank lines are skipped. A group
    needs at least two distinct terms; duplicates within a line are dropped.
    """
    groups: list[tuple[str, ...]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        terms: list[str] = []
        for part in _SEPARATORS.split(line):
            term = " ".join(part.split())
            if not term or term in terms:
                continue
            if len(term) > _MAX_TERM_CHARS:
                raise SynonymFormatError(number, f"term longer than {_MAX_TERM_CHARS} characters: {term[:20]}…")
            terms.append(term)
        if len(terms) < 2:
            raise SynonymFormatError(number, "a group needs at least two different terms")
        groups.append(tuple(terms))
    return groups


@dataclass(frozen=True)
class SynonymSet:
    """Immutable synonym groups with their analysed forms; cheap to share between threads."""

    groups: tuple[tuple[str, ...], ...] = ()
    weight: float = DEFAULT_SYNONYM_WEIGHT
    _by_token: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _by_first_token: dict[str, tuple[tuple[tuple[str, ...], int], ...]] = field(
        init=False, repr=False, compare=False
    )
    _analysed: tuple[tuple[tuple[str, ...], ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        analysed: list[tuple[tuple[str, ...], ...]] = []
        by_token: dict[str, list[int]] = {}
        by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for index, group in enumerate(self.groups):
            forms: list[tuple[str, ...]] = []
            for term in group:
                tokens = term_tokens(term)
                if not tokens or tokens in forms:
                    continue
                forms.append(tokens)
                if len(tokens) == 1:
                    by_token.setdefault(tokens[0], []).append(index)
                else:
                    by_first.setdefault(tokens[0], []).append((tokens, index))
                # A vocabulary word said in pieces (公积金…取出) still finds its group.
                components = tuple(analyzer.term_components(term))
                if len(components) > 1 and components != tokens:
                    by_first.setdefault(components[0], []).append((components, index))
            analysed.append(tuple(forms))
        object.__setattr__(self, "_analysed", tuple(analysed))
        object.__setattr__(self, "_by_token", {k: tuple(dict.fromkeys(v)) for k, v in by_token.items()})
        object.__setattr__(self, "_by_first_token", {k: tuple(v) for k, v in by_first.items()})

    # -- construction -------------------------------------------------------
    @classmethod
    def from_groups(cls, groups: Iterable[Sequence[str]], weight: float = DEFAULT_SYNONYM_WEIGHT) -> SynonymSet:
        return cls(tuple(tuple(g) for g in groups), weight)

    @classmethod
    def from_text(cls, text: str, weight: float = DEFAULT_SYNONYM_WEIGHT) -> SynonymSet:
        return cls.from_groups(parse_lines(text), weight)

    @classmethod
    def from_file(cls, path: Path, weight: float = DEFAULT_SYNONYM_WEIGHT) -> SynonymSet:
        return cls.from_text(Path(path).read_text(encoding="utf-8"), weight)

    @classmethod
    def starter(cls) -> SynonymSet:
        return cls.from_file(STARTER_FILE)

    @classmethod
    def empty(cls) -> SynonymSet:
        return cls()

    def __len__(self) -> int:
        return len(self.groups)

    # -- lookup -------------------------------------------------------------
    def synonyms_of(self, term: str) -> list[str]:
        """The other terms of every group containing ``term`` (display form)."""
        tokens = term_tokens(term)
        found: list[str] = []
        for index, group in enumerate(self.groups):
            if tokens in self._analysed[index]:
                found.extend(t for t in group if term_tokens(t) != tokens and t not in found)
        return found

    def expand(self, tokens: Sequence[str]) -> list[TokenGroup]:
        """One group of weighted alternatives per query token.

        The token comes first with weight 1.0; synonyms follow with
        ``self.weight``. Alternatives of several tokens are space-joined.
        """
        groups: list[TokenGroup] = [[(token, 1.0)] for token in tokens]
        if not self.groups:
            return groups
        position = {token: i for i, token in enumerate(tokens)}
        present = set(tokens)
        for i, token in enumerate(tokens):
            group_ids: list[int] = list(self._by_token.get(token, ()))
            for term_form, group_id in self._by_first_token.get(token, ()):
                if all(t in present for t in term_form[1:]):
                    group_ids.append(group_id)
            if not group_ids and _PINYIN_TOKEN.fullmatch(token):
                group_ids = list(self._by_pinyin.get(token, ()))
            if not group_ids and _INITIALS_TOKEN.fullmatch(token):
                group_ids = list(self._by_initials.get(token, ()))
            for group_id in group_ids:
                for form in self._analysed[group_id]:
                    self._add(groups[i], " ".join(form), self.weight)
        # A multi-token alternative equal to another query token adds nothing new.
        for group in groups:
            group[1:] = [alt for alt in group[1:] if alt[0] not in position or alt[0] == group[0][0]]
        return groups

    @staticmethod
    def _add(group: TokenGroup, alternative: str, weight: float) -> None:
        if all(existing != alternative for existing, _ in group):
            group.append((alternative, weight))

    @cached_property
    def _by_pinyin(self) -> dict[str, tuple[int, ...]]:
        from pypinyin import lazy_pinyin  # imported on first pinyin-looking token only

        return self._pinyin_index(lambda term: "".join(lazy_pinyin(term)))

    @cached_property
    def _by_initials(self) -> dict[str, tuple[int, ...]]:
        """Initials that name terms of exactly one group (the others are too ambiguous to expand)."""
        from pypinyin import Style, lazy_pinyin

        index = self._pinyin_index(lambda term: "".join(p[0] for p in lazy_pinyin(term, style=Style.FIRST_LETTER)))
        return {key: groups for key, groups in index.items() if len(groups) == 1}

    def _pinyin_index(self, key_of) -> dict[str, tuple[int, ...]]:
        index: dict[str, list[int]] = {}
        for group_id, group in enumerate(self.groups):
            for term in group:
                if len(term) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in term):
                    continue
                index.setdefault(key_of(term), []).append(group_id)
        return {k: tuple(dict.fromkeys(v)) for k, v in index.items()}


def term_tokens(term: str) -> tuple[str, ...]:
    """A synonym term as precise-mode tokens (no search-mode sub-words)."""
    return tuple(analyzer.tokenize_term(term))
