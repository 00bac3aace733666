"""The rule catalogue: every `Rule` subclass defined in a module of this package, by code."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from .base import Invalid, Rule, Valid

__all__ = ["Invalid", "Rule", "Valid", "all_rules", "rule_by_code"]


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    found: dict[str, type[Rule]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_") or module_info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value is not Rule
                and value.__module__ == module.__name__
                and "code" in vars(value)
            ):
                if value.code in found:
                    raise RuntimeError(f"rule code {value.code} is defined twice")
                found[value.code] = value
    return tuple(found[code] for code in sorted(found))


def rule_by_code(code: str) -> type[Rule] | None:
    normalized = code.strip().upper()
    for rule in all_rules():
        if rule.code == normalized or rule.name == code.strip().lower():
            return rule
    return None
