"""Jurisdiction scoring profiles, one module each, found through entry points.

A profile is registered in the ``kb.scoring_profiles`` entry-point group
under its ``name``, pointing at the module's ``PROFILE`` object. The built-in
profiles are also loaded straight from their modules, so a checkout that is
not installed scores the same way.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from .base import (
    BaseProfile,
    DeadlineMismatch,
    Deduction,
    ItemScore,
    Profile,
    SettingsError,
    UnitScore,
)

__all__ = [
    "BUILTIN_PROFILES",
    "ENTRY_POINT_GROUP",
    "BaseProfile",
    "DeadlineMismatch",
    "Deduction",
    "ItemScore",
    "Profile",
    "ProfileLoadError",
    "SettingsError",
    "UnitScore",
    "get_profile",
    "load_profiles",
]

ENTRY_POINT_GROUP = "kb.scoring_profiles"

#: name → module holding ``PROFILE``; also the lines of setup.cfg's entry points.
BUILTIN_PROFILES: dict[str, str] = {
    "nankang-2023": "scoring_hooks.profiles.nankang_2023",
    "huantai-2017": "scoring_hooks.profiles.huantai_2017",
    "changzhou-edu": "scoring_hooks.profiles.changzhou_edu",
    "licheng": "scoring_hooks.profiles.licheng",
}


class ProfileLoadError(RuntimeError):
    """A registered profile that cannot be loaded or does not fit the interface."""


def _register(found: dict[str, Profile], name: str, obj: object, origin: str) -> None:
    if not isinstance(obj, Profile):
        raise ProfileLoadError(f"scoring profile {name!r} ({origin}) does not implement the Profile interface")
    if obj.name != name:
        raise ProfileLoadError(f"scoring profile registered as {name!r} ({origin}) calls itself {obj.name!r}")
    if name in found and found[name] is not obj:
        raise ProfileLoadError(f"two scoring profiles are registered as {name!r}")
    found[name] = obj


def load_profiles() -> dict[str, Profile]:
    """All scoring profiles by name: registered entry points, then any built-in not registered."""
    found: dict[str, Profile] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # an installed plugin that fails to import
            raise ProfileLoadError(f"cannot load scoring profile {ep.name!r} ({ep.value}): {exc}") from exc
        _register(found, ep.name, obj, ep.value)
    for name, module in BUILTIN_PROFILES.items():
        if name not in found:
            _register(found, name, importlib.import_module(module).PROFILE, f"{module}:PROFILE")
    return dict(sorted(found.items()))


def get_profile(name: str, profiles: dict[str, Profile] | None = None) -> Profile:
    """One profile by name; ``KeyError`` naming the known profiles otherwise."""
    profiles = load_profiles() if profiles is None else profiles
    try:
        return profiles[name]
    except KeyError:
        raise KeyError(f"unknown scoring profile {name!r}; known: {', '.join(profiles)}") from None
