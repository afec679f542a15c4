"""Score records, the profile interface and the arithmetic every profile shares.

A profile turns one :class:`kb.compliance.UnitCompliance` into a
:class:`UnitScore`. Items that deduct start at their maximum and list every
rule that fired as a :class:`Deduction`; the points of a deduction are what
was actually taken off, so for such items ``max_points - points`` equals the
sum of the deductions. A rule that fired after the item was already at zero
is still listed (with 0 points) for its evidence.

All arithmetic is done in :class:`~decimal.Decimal` and rounded half-up to
two places only when a record is built, so 39 × 0.1 is 3.9, not
3.9000000000000004.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, ClassVar, Iterable, Mapping, Protocol, runtime_checkable

from kb.compliance import TASK_SOURCE_TITLES, TASK_SOURCES, Period, UnitCompliance

__all__ = [
    "BaseProfile",
    "Deduction",
    "DeadlineMismatch",
    "ItemScore",
    "ItemTally",
    "Profile",
    "SettingsError",
    "TASK_DEADLINES_SCHEMA",
    "UnitScore",
    "dec",
    "fmt_percent",
    "fmt_points",
    "points_setting",
    "round_points",
    "settings_schema",
]

_CENT = Decimal("0.01")


def dec(value: Any) -> Decimal:
    """A number as an exact Decimal (floats through their shortest repr: 0.1 → Decimal('0.1'))."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raise TypeError(f"not a number: {value!r}")


def round_points(value: Any) -> float:
    """Points rounded half-up to two decimal places, as a float."""
    return float(dec(value).quantize(_CENT, rounding=ROUND_HALF_UP))


def fmt_points(value: Any) -> str:
    """Points for a Chinese reason text: ``Decimal('2.00')`` → ``"2"``, ``0.1`` → ``"0.1"``."""
    d = dec(value).quantize(_CENT, rounding=ROUND_HALF_UP)
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_percent(ratio: Fraction | Any) -> str:
    """A ratio as a percentage for a reason text: ``Fraction(1, 8)`` → ``"12.5%"``."""
    if isinstance(ratio, Fraction):
        value = Decimal(ratio.numerator) / Decimal(ratio.denominator)
    else:
        value = dec(ratio)
    return f"{fmt_points(value * 100)}%"


def _frozen_evidence(evidence: Mapping[str, Iterable[Any]] | None) -> Mapping[str, tuple]:
    return MappingProxyType({key: tuple(values) for key, values in (evidence or {}).items()})


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Period):
        return value.to_dict()
    return value


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Deduction:
    """One rule that fired: ``points`` actually taken off, a Chinese reason, and evidence ids."""

    rule: str
    points: float
    reason: str
    evidence: Mapping[str, tuple] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", round_points(self.points))
        object.__setattr__(self, "evidence", _frozen_evidence(self.evidence))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "points": self.points,
            "reason": self.reason,
            "evidence": _jsonable(self.evidence),
        }


@dataclass(frozen=True)
class ItemScore:
    """The score of one item of a jurisdiction's table (e.g. 3.1 of Huantai)."""

    item: str
    max_points: float
    points: float
    deductions: tuple[Deduction, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_points", round_points(self.max_points))
        object.__setattr__(self, "points", round_points(self.points))
        object.__setattr__(self, "deductions", tuple(self.deductions))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def deducted(self) -> float:
        return round_points(sum((dec(d.points) for d in self.deductions), Decimal(0)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "max_points": self.max_points,
            "points": self.points,
            "deductions": [d.to_dict() for d in self.deductions],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class UnitScore:
    """One unit's knowledge-base score under one profile for one period.

    ``report`` carries counts a profile publishes alongside the points
    (Licheng's periodic report); ``settings`` are the settings actually used;
    ``notes`` are remarks on the whole score (e.g. a deadline not checked).
    ``provisional``: the period had not ended when the counts were taken.
    """

    profile: str
    unit_code: str
    unit_name: str
    period: Period
    points: float
    max_points: float
    items: tuple[ItemScore, ...]
    profile_title: str = ""
    report: Mapping[str, Any] = field(default_factory=dict, hash=False)
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)
    notes: tuple[str, ...] = ()
    provisional: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", round_points(self.points))
        object.__setattr__(self, "max_points", round_points(self.max_points))
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "report", MappingProxyType(dict(self.report)))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    @property
    def deductions(self) -> tuple[Deduction, ...]:
        return tuple(d for item in self.items for d in item.deductions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "profile_title": self.profile_title,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "period": self.period.to_dict(),
            "points": self.points,
            "max_points": self.max_points,
            "items": [item.to_dict() for item in self.items],
            "report": _jsonable(self.report),
            "settings": _jsonable(self.settings),
            "notes": list(self.notes),
            "provisional": self.provisional,
        }


# ---------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------


@runtime_checkable
class Profile(Protocol):
    """A jurisdiction's knowledge-base scoring rules.

    ``settings_schema`` is a JSON Schema (object) of the accepted settings;
    ``defaults`` holds a value for each. ``task_deadlines`` gives the deadline
    in working days that the profile's rules assume per task source, to be
    passed to ``compliance_for`` so that "late" means what the rule means.
    """

    name: str
    title: str
    settings_schema: Mapping[str, Any]
    defaults: Mapping[str, Any]

    def task_deadlines(self, settings: Mapping[str, Any] | None = None) -> Mapping[str, int]: ...

    def score(self, unit: UnitCompliance, settings: Mapping[str, Any] | None = None) -> UnitScore: ...


class SettingsError(ValueError):
    """Settings that do not match a profile's schema."""


class DeadlineMismatch(ValueError):
    """Task counts classified with a deadline other than the one the rule names."""


# ---------------------------------------------------------------------------
# Settings validation (the small subset of JSON Schema the profiles use)
# ---------------------------------------------------------------------------


def _validate(value: Any, schema: Mapping[str, Any], path: str) -> None:
    kind = schema.get("type")
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise SettingsError(f"{path} must be a number, got {value!r}")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"{path} must be an integer, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise SettingsError(f"{path} must be true or false, got {value!r}")
    elif kind == "string":
        if not isinstance(value, str):
            raise SettingsError(f"{path} must be a string, got {value!r}")
    elif kind == "array":
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise SettingsError(f"{path} must be a list, got {value!r}")
        for i, element in enumerate(value):
            _validate(element, schema.get("items", {}), f"{path}[{i}]")
        if schema.get("uniqueItems") and len(set(value)) != len(value):
            raise SettingsError(f"{path} must not repeat values")
    elif kind == "object":
        if not isinstance(value, Mapping):
            raise SettingsError(f"{path} must be an object, got {value!r}")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        names = schema.get("propertyNames")
        for key, element in value.items():
            if names is not None:
                _validate(key, names, f"{path} key")
            if key in properties:
                _validate(element, properties[key], f"{path}.{key}" if path else key)
            elif extra is False:
                allowed = ", ".join(sorted(properties))
                raise SettingsError(f"unknown setting {key!r}; expected one of: {allowed}")
            elif isinstance(extra, Mapping):
                _validate(element, extra, f"{path}.{key}" if path else key)
    if "enum" in schema and value not in schema["enum"]:
        raise SettingsError(f"{path} must be one of {list(schema['enum'])}, got {value!r}")
    if "minimum" in schema and value < schema["minimum"]:
        raise SettingsError(f"{path} must be at least {schema['minimum']}, got {value!r}")
    if "maximum" in schema and value > schema["maximum"]:
        raise SettingsError(f"{path} must be at most {schema['maximum']}, got {value!r}")


def points_setting(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "number", "minimum": 0, "description": description, **extra}


TASK_DEADLINES_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "description": "各来源任务的办理时限（工作日），统计逾期时使用；突发事项按小时计，不在此列",
    "propertyNames": {"type": "string", "enum": [s for s in TASK_SOURCES if s != "emergency"]},
    "additionalProperties": {"type": "integer", "minimum": 1},
}


def settings_schema(properties: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    return MappingProxyType(
        {"type": "object", "additionalProperties": False, "properties": dict(properties)}
    )


# ---------------------------------------------------------------------------
# Building an item
# ---------------------------------------------------------------------------


class ItemTally:
    """Accumulates one item: deductions taken in order, never below zero.

    ``deduct`` takes off at most what is left of the item; when it takes less
    than the rule asks, the reason says so.
    """

    def __init__(self, item: str, max_points: Any) -> None:
        self.item = item
        self.max_points = dec(max_points)
        self.remaining = self.max_points
        self.deductions: list[Deduction] = []
        self.notes: list[str] = []

    def deduct(
        self,
        rule: str,
        amount: Any,
        reason: str,
        evidence: Mapping[str, Iterable[Any]] | None = None,
    ) -> Decimal:
        amount = dec(amount)
        if amount <= 0:
            return Decimal(0)
        applied = min(amount, self.remaining)
        if applied < amount:
            reason = f"{reason}；本项扣完为止，实扣{fmt_points(applied)}分"
        self.remaining -= applied
        self.deductions.append(Deduction(rule, applied, reason, evidence or {}))
        return applied

    def note(self, text: str) -> None:
        self.notes.append(text)

    def build(self, points: Any | None = None) -> ItemScore:
        """The item; ``points`` for items that earn rather than deduct."""
        earned = self.remaining if points is None else dec(points)
        return ItemScore(
            item=self.item,
            max_points=self.max_points,
            points=earned,
            deductions=tuple(self.deductions),
            notes=tuple(self.notes),
        )


class BaseProfile:
    """Shared machinery: settings merged with defaults and validated, deadline check, totals.

    Subclasses set ``name``, ``title``, ``defaults``, ``settings_schema`` and
    implement :meth:`score_items`.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    defaults: ClassVar[Mapping[str, Any]]
    settings_schema: ClassVar[Mapping[str, Any]]

    def __init__(self) -> None:
        # The defaults must pass their own schema; a typo here fails at import.
        _validate(dict(self.defaults), self.settings_schema, "")
        missing = set(self.settings_schema["properties"]) - set(self.defaults)
        if missing:
            raise SettingsError(f"{self.name}: no default for {sorted(missing)}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def resolve_settings(self, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults overridden key by key (a mapping value replaces the default mapping whole)."""
        if settings is not None and not isinstance(settings, Mapping):
            raise SettingsError("settings must be a mapping")
        merged = dict(self.defaults)
        merged.update(settings or {})
        _validate(merged, self.settings_schema, "")
        return merged

    def task_deadlines(self, settings: Mapping[str, Any] | None = None) -> Mapping[str, int]:
        resolved = self.resolve_settings(settings)
        return MappingProxyType(dict(resolved.get("task_deadlines", {})))

    def score(self, unit: UnitCompliance, settings: Mapping[str, Any] | None = None) -> UnitScore:
        if not isinstance(unit, UnitCompliance):
            raise TypeError("score() takes a kb.compliance.UnitCompliance")
        resolved = self.resolve_settings(settings)
        deadline_notes = self._check_deadlines(unit, resolved)
        if unit.provisional:
            deadline_notes.insert(0, f"期间{unit.period.label}尚未结束，得分为截至{unit.as_of:%Y-%m-%d %H:%M}的临时数，"
                                     f"运行中的月份不计")
        items, report = self.score_items(unit, resolved)
        total = sum((dec(item.points) for item in items), Decimal(0))
        maximum = sum((dec(item.max_points) for item in items), Decimal(0))
        return UnitScore(
            profile=self.name,
            profile_title=self.title,
            unit_code=unit.unit_code,
            unit_name=unit.unit_name,
            period=unit.period,
            points=total,
            max_points=maximum,
            items=tuple(items),
            report=report,
            settings=resolved,
            notes=tuple(deadline_notes),
            provisional=unit.provisional,
        )

    def score_items(
        self, unit: UnitCompliance, settings: Mapping[str, Any]
    ) -> tuple[list[ItemScore], Mapping[str, Any]]:
        raise NotImplementedError

    def _check_deadlines(self, unit: UnitCompliance, settings: Mapping[str, Any]) -> list[str]:
        notes = []
        for source, days in sorted(settings.get("task_deadlines", {}).items()):
            tally = unit.tasks_by_source[source]
            if tally.due_working_days is None:
                if tally.received or tally.missed:
                    notes.append(
                        f"{TASK_SOURCE_TITLES[source]}任务按系统默认时限统计，本方案要求{days}个工作日，未核对"
                    )
            elif tally.due_working_days != days:
                raise DeadlineMismatch(
                    f"{self.name}: {source} tasks of unit {unit.unit_code} were classified with a "
                    f"{tally.due_working_days} working-day deadline, the rule requires {days}; "
                    f"pass the profile's task_deadlines to compliance_for"
                )
        return notes
