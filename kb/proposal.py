"""A change request's proposed content: the value object the collect and review steps pass around.

A proposal names only the fields it proposes. For new knowledge that is what
the maintainer filled in; for a modification it is what changes (merged over
the published version when the draft is made); for a reviewer's amendment it
is what the reviewer changed. So a field is either ABSENT (not proposed) or
holds a value, and None is a value ("no expiry date", "no policy number"):
`Proposal(expires_on=None)` clears a date where `Proposal()` leaves it alone.

Stored in `ChangeRequest.proposal` as JSON (`to_json`, read back with `of`:
dates as ISO strings, sequences as lists); here dates are `date` and sequences
tuples.
"""
from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal, TypeAlias


class _Absent(enum.Enum):
    ABSENT = "absent"

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "ABSENT"


# A field the proposal does not name (distinct from None, which is a value).
ABSENT: Final = _Absent.ABSENT
Absent: TypeAlias = Literal[_Absent.ABSENT]

_DATES = ("effective_on", "expires_on")
_SEQUENCES = ("similar_questions", "keywords")


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal:
    """Proposed content of one question, one answer (一问一答); the fields are `kb.models.CONTENT_FIELDS`."""

    question: str | Absent = ABSENT
    similar_questions: tuple[str, ...] | Absent = ABSENT  # 相似问法
    answer: str | Absent = ABSENT
    keywords: tuple[str, ...] | Absent = ABSENT
    category_id: int | None | Absent = ABSENT
    policy_title: str | None | Absent = ABSENT            # 政策依据：文件标题
    policy_number: str | None | Absent = ABSENT           # 文号
    policy_attachments: int | Absent = ABSENT             # 附件数
    effective_on: date | None | Absent = ABSENT
    expires_on: date | None | Absent = ABSENT
    urgent: bool | Absent = ABSENT
    format: str | Absent = ABSENT                         # EntryFormat's value: qa | document

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Proposal:
        """From a mapping of the fields it names (a loaded request body, a version's content, stored JSON):
        ISO date strings become dates and lists tuples; a key that is not a content field is an error."""
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise TypeError(f"not fields of a proposal: {', '.join(sorted(unknown))}")
        typed: dict[str, Any] = {}
        for key, value in values.items():
            if key in _DATES and isinstance(value, str):
                value = date.fromisoformat(value)
            elif key in _SEQUENCES and value is not None:
                value = tuple(value)
            typed[key] = value
        return cls(**typed)

    def fields(self) -> dict[str, Any]:
        """The fields it names, with their values, in the order of CONTENT_FIELDS."""
        return {name: value for name, value in self._items() if value is not ABSENT}

    def to_json(self) -> dict[str, Any]:
        """As stored in `ChangeRequest.proposal`: the fields it names, dates as ISO strings, sequences as lists."""
        out: dict[str, Any] = {}
        for name, value in self.fields().items():
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out

    def names(self, field: str) -> bool:
        """Whether the proposal names `field` (None counts: it is a value)."""
        return getattr(self, field) is not ABSENT

    def value(self, field: str) -> Any:
        """The value of `field`, None when the proposal does not name it."""
        value = getattr(self, field)
        return None if value is ABSENT else value

    def over(self, base: Proposal) -> Proposal:
        """This proposal's fields laid over `base` (a modification over the published content, an edit over
        the saved draft): what this one names wins, the rest is base's."""
        return dataclasses.replace(base, **self.fields())

    def changed_from(self, base: Proposal) -> Proposal:
        """Only the fields it names whose value differs from `base`'s (what a modification really changes)."""
        return Proposal(**{k: v for k, v in self.fields().items() if v != base.value(k)})

    def filled(self, **defaults: Any) -> Proposal:
        """The fields it does not name set to `defaults` (the ones it names are kept)."""
        return dataclasses.replace(self, **{k: v for k, v in defaults.items() if not self.names(k)})

    def __bool__(self) -> bool:
        """False when it names no field (an empty body's proposal, like an empty dict)."""
        return any(value is not ABSENT for _, value in self._items())

    def _items(self) -> Iterator[tuple[str, Any]]:
        return ((name, getattr(self, name)) for name in FIELDS)


FIELDS: Final = tuple(f.name for f in dataclasses.fields(Proposal))
