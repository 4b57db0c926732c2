"""What Dagster accepts in a table's ``meta`` block, checked without importing Dagster.

One function per rule: it takes the value and returns why Dagster would refuse it, or
``None``. The regular expressions are Dagster's own (1.13), copied as they are, and
applied the way Dagster applies them (``re.match`` with ``^...$``, so, as in Dagster, a
value ending in one newline passes); ``tests/test_meta_rules.py`` checks on drawn strings
that each rule accepts exactly what Dagster accepts.

The rules see only what the YAML states. A translator decides what reaches Dagster (the
default one passes ``meta`` on as it is; another may change the group, drop tags, add
kinds or owners): a value a translator replaces would be refused all the same, as the
config asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeAlias

__all__ = [
    "KIND_PREFIX",
    "MAX_KINDS",
    "asset_key_problem",
    "group_problem",
    "kinds_problem",
    "meta_problems",
    "owner_problem",
    "tag_key_problem",
    "tag_value_problem",
]

# dagster/_core/definitions/utils.py: VALID_NAME_REGEX_STR, VALID_GROUP_NAME_REGEX
_GROUP = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*$")
# dagster/_core/utils.py: is_valid_email
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,7}\b")
_TEAM_PREFIX = "team:"
# dagster/_utils/tags.py: VALID_TAG_KEY_REGEX, VALID_STRICT_TAG_VALUE_REGEX
_TAG_KEY = re.compile(r"^([A-Za-z0-9_.-]{1,63}/|dagster/kind/)?[A-Za-z0-9_.-]{1,63}$")
_TAG_VALUE = re.compile(r"^[A-Za-z0-9_.-]{0,63}$")
# dagster/_core/storage/tags.py: KIND_PREFIX
KIND_PREFIX = "dagster/kind/"
MAX_KINDS = 10
"""dagster/_core/definitions/assets/definition/asset_spec.py: validate_kind_tags."""
_ASSET_KEY_DELIMITER = "/"


def group_problem(group: str) -> str | None:
    """Dagster's ``validate_group_name``: parts of ``[A-Za-z0-9_]+`` joined by ``/``."""
    if group == "":
        return "the group cannot be empty (leave it out for the default group)"
    if _GROUP.match(group) is None:
        return (
            f"group {group!r} is not a valid Dagster group name: use ASCII letters, digits "
            "and '_', in parts separated by '/' (like 'marketing' or 'marketing/emails')"
        )
    return None


def asset_key_problem(key: str) -> str | None:
    """No empty part in an ``a/b/c`` asset key.

    typedrepl's rule, not Dagster's: Dagster turns ``a//b`` into the key
    ``["a", "", "b"]`` without complaint (``AssetKey.from_user_string`` splits on ``/``
    and checks nothing), but a key with an empty part is not one anybody means, and
    ``typedrepl.testing`` refuses it from a translator too (``_check_keys._key_problem``).
    """
    if key == "":
        return "an asset key cannot be empty"
    if "" in key.split(_ASSET_KEY_DELIMITER):
        return (
            f"asset key {key!r} has an empty part: write its parts separated by single '/' "
            "(like 'raw/users')"
        )
    return None


def owner_problem(owner: str) -> str | None:
    """Dagster's ``is_valid_owner``: an e-mail address, or ``team:`` and a name."""
    if _EMAIL.fullmatch(owner) is not None:
        return None
    if owner.startswith(_TEAM_PREFIX):
        if len(owner) > len(_TEAM_PREFIX):
            return None
        return "owner 'team:' needs a team name after 'team:'"
    return (
        f"owner {owner!r} is neither an e-mail address nor a team name prefixed with "
        "'team:' (like 'team:data')"
    )


def tag_key_problem(key: str) -> str | None:
    """Dagster's tag keys (``normalize_tags(strict=True)``)."""
    if _TAG_KEY.match(key) is None:
        return (
            f"tag key {key!r} is not valid in Dagster: 1 to 63 ASCII letters, digits, '_', "
            "'-' or '.', optionally after a namespace of the same and '/'"
        )
    return None


def tag_value_problem(value: str) -> str | None:
    """Dagster's tag values (``normalize_tags(strict=True)``)."""
    if _TAG_VALUE.match(value) is None:
        return (
            f"tag value {value!r} is not valid in Dagster: at most 63 ASCII letters, digits, "
            "'_', '-' or '.'"
        )
    return None


def kinds_problem(tag_keys: Iterable[str]) -> str | None:
    """Dagster's ``validate_kind_tags``: at most ten ``dagster/kind/...`` tags.

    Only the kinds the tags state are counted (valid keys only: an invalid one is
    reported as such): those the translator adds (by default the connection types) are
    not known here, and a translator may add none.
    """
    count = sum(1 for key in set(tag_keys) if key.startswith(KIND_PREFIX) and _TAG_KEY.match(key))
    if count > MAX_KINDS:
        return (
            f"the tags name {count} kinds ({KIND_PREFIX}...); Dagster allows at most "
            f"{MAX_KINDS} per asset"
        )
    return None


Where: TypeAlias = tuple[str | int, ...]
_Rule: TypeAlias = Callable[[str], str | None]


def meta_problems(meta: Mapping[object, object]) -> Iterator[tuple[Where, str, bool]]:
    """``(path in meta, problem, points at the key)`` for every value Dagster refuses.

    Only values of the right type are checked (a wrong type is the converter's to report),
    so the mapping may be the YAML as it was written.
    """

    def check(value: object, where: Where, rule: _Rule) -> Iterator[tuple[Where, str, bool]]:
        if isinstance(value, str):
            problem = rule(value)
            if problem is not None:
                yield where, problem, False

    yield from check(meta.get("asset_key"), ("asset_key",), asset_key_problem)
    yield from check(meta.get("group"), ("group",), group_problem)
    # description: any string (AssetSpec only checks that it is one)
    for field, rule in (("owners", owner_problem), ("deps", asset_key_problem)):
        value = meta.get(field)
        if isinstance(value, list | tuple):
            for index, item in enumerate(value):
                yield from check(item, (field, index), rule)
        else:
            yield from check(value, (field,), rule)
    tags = meta.get("tags")
    if isinstance(tags, Mapping):
        keys = [key for key in tags if isinstance(key, str)]
        for key in keys:
            problem = tag_key_problem(key)
            if problem is not None:
                yield ("tags", key), problem, True
            yield from check(tags[key], ("tags", key), tag_value_problem)
        problem = kinds_problem(keys)
        if problem is not None:  # about the keys: at the "tags" key
            yield ("tags",), problem, True
