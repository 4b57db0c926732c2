"""The loader's ``meta`` rules accept exactly what Dagster accepts.

``typedrepl._meta_rules`` restates Dagster's rules so that loading a config needs no
Dagster. Each test draws strings (the characters Dagster's regular expressions care
about, unicode, empty, near the 63-character limits) and asks Dagster itself: the spec
the default translator builds for a table with that ``meta`` (what a config reaches
Dagster as). A Dagster upgrade that changes a rule fails here.
"""

from __future__ import annotations

import dagster as dg
from hypothesis import example, given, settings
from hypothesis import strategies as st

from typedrepl import ReplicationTranslator, Table, TableMeta
from typedrepl._meta_rules import (
    MAX_KINDS,
    asset_key_problem,
    group_problem,
    kinds_problem,
    meta_problems,
    owner_problem,
    tag_key_problem,
    tag_value_problem,
)

# What the rules' regular expressions turn on: ASCII classes and their edges, the
# separators, e-mail punctuation ('|' is in Dagster's TLD class), a trailing newline
# (``$`` matches before one), and letters and digits that are not ASCII.
_SPECIAL = "aZz09_.-/@%+|: \n\t$é"
_PIECES = [
    "team:",
    "dagster/kind/",
    "@",
    ".com",
    ".c",
    "a@b.co",
    "ana.b+x@mail.example.org",
    "\n",
    "/",
    "//",
    "x" * 62,
    "é",
    "😀",
    "İ",
    "ß",
    "٣",
    "ﬁ",
    "\u200b",
]
_VALID_CHARS = st.sampled_from("aZ09_.-")

strings = st.one_of(
    st.just(""),
    st.text(st.sampled_from(_SPECIAL), max_size=10),
    st.lists(st.sampled_from(_PIECES) | st.text(st.sampled_from(_SPECIAL), max_size=4), max_size=5).map("".join),
    st.text(max_size=20),
    # near the 63-character limits, with and without a namespace
    st.text(_VALID_CHARS, min_size=60, max_size=66),
    st.tuples(st.text(_VALID_CHARS, max_size=66), st.text(_VALID_CHARS, max_size=66)).map("/".join),
    st.tuples(st.just("dagster/kind"), st.text(_VALID_CHARS, max_size=66)).map("/".join),
    # owners: team names, e-mail addresses and near-e-mails
    st.tuples(st.sampled_from(["team:", "team", "Team:", " team:"]), st.text(st.sampled_from(_SPECIAL), max_size=6)).map("".join),
    st.from_regex(r"[a-z0-9][a-z0-9._%+-]{0,6}@[a-z0-9.-]{1,6}\.[a-z]{2,8}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9._%+|-]{0,4}@[A-Za-z0-9.|-]{0,4}\.[A-Za-z|é]{1,8}\n?", fullmatch=True),
    # near-groups
    st.from_regex(r"[A-Za-z0-9_/ !é]{0,12}\n?", fullmatch=True),
)  # fmt: skip

EXAMPLES = settings(max_examples=400, deadline=None)


def dagster_refuses(meta: TableMeta) -> str | None:
    """Dagster's error for the spec of a table with ``meta``, or ``None``."""
    table = Table(name="t", meta=meta)
    try:
        ReplicationTranslator[Table]().get_asset_spec(table)
    except dg.DagsterInvalidDefinitionError as exc:
        return str(exc)
    return None


@EXAMPLES
@given(strings)
@example("marketing/emails_2")
@example("marketing\n")  # Dagster's ``$`` matches before a final newline
@example("marketing\n\n")
@example("a//b")
@example("/a")
@example("")
def test_group(group: str) -> None:
    assert (group_problem(group) is None) == (dagster_refuses(TableMeta(group=group)) is None)


@EXAMPLES
@given(strings)
@example("team:")
@example("team:x")
@example("team: x y")
@example("a@b.co")
@example("a@b.c")
@example("a@b.co|")
@example("a@b.c|o")
@example(".a@b.co")
@example("_a@b.co")
@example("a@b.co\n")
@example("a@b.abcdefgh")
def test_owner(owner: str) -> None:
    assert (owner_problem(owner) is None) == (dagster_refuses(TableMeta(owners=(owner,))) is None)


@EXAMPLES
@given(strings)
@example("k" * 63)
@example("k" * 64)
@example("n" * 63 + "/" + "k" * 63)
@example("n" * 64 + "/k")
@example("a/b/c")
@example("dagster/kind/x")
@example("dagster/kind/a/b")
@example("/k")
@example("k/")
@example("k\n")
@example("")
def test_tag_key(key: str) -> None:
    accepted = dagster_refuses(TableMeta(tags={key: "v"})) is None
    assert (tag_key_problem(key) is None) == accepted


@EXAMPLES
@given(strings)
@example("")
@example("v" * 63)
@example("v" * 64)
@example("v\n")
@example("a/b")
@example("é")
def test_tag_value(value: str) -> None:
    accepted = dagster_refuses(TableMeta(tags={"k": value})) is None
    assert (tag_value_problem(value) is None) == accepted


@EXAMPLES
@given(
    st.integers(0, 2 * MAX_KINDS),
    st.dictionaries(st.from_regex(r"[a-z]{1,5}(/[a-z]{1,5})?", fullmatch=True), st.just("")),
)
def test_kinds(kinds: int, others: dict[str, str]) -> None:
    tags = {**others, **{f"dagster/kind/k{i}": "" for i in range(kinds)}}
    accepted = dagster_refuses(TableMeta(tags=tags)) is None
    assert (kinds_problem(tags) is None) == accepted


@EXAMPLES
@given(strings)
def test_any_description(description: str) -> None:
    """Dagster takes any description; so does the loader."""
    assert dagster_refuses(TableMeta(description=description)) is None
    assert list(meta_problems({"description": description})) == []


@EXAMPLES
@given(strings)
@example("")
@example("a//b")
@example("/a")
@example("a/")
@example("a b/é/😀")
def test_asset_keys_and_deps(key: str) -> None:
    """Dagster takes any ``a/b`` string as a key or a dependency, also one with an empty
    part (``a//b`` is ``["a", "", "b"]``); the loader refuses exactly those (its own
    rule, which ``typedrepl.testing`` applies to a translator's keys too)."""
    empty_part = "" in dg.AssetKey.from_user_string(key).path
    assert dagster_refuses(TableMeta(asset_key=key)) is None
    assert dagster_refuses(TableMeta(deps=(key,))) is None
    assert (asset_key_problem(key) is not None) == empty_part


@settings(max_examples=300, deadline=None)
@given(
    group=st.none() | strings,
    owners=st.lists(strings, max_size=3),
    tags=st.dictionaries(strings, strings, max_size=4),
    kinds=st.integers(0, MAX_KINDS + 2),
    asset_key=st.none() | strings,
    deps=st.lists(strings, max_size=2),
)
def test_a_whole_meta_block(
    group: str | None,
    owners: list[str],
    tags: dict[str, str],
    kinds: int,
    asset_key: str | None,
    deps: list[str],
) -> None:
    """The loader finds nothing in a block exactly when Dagster takes it (and no key has
    an empty part)."""
    tags = {**tags, **{f"dagster/kind/k{i}": "" for i in range(kinds)}}
    block: dict[object, object] = {"owners": owners, "tags": tags, "deps": deps}
    if group is not None:
        block["group"] = group
    if asset_key is not None:
        block["asset_key"] = asset_key
    meta = TableMeta(
        group=group, owners=tuple(owners), tags=tags, asset_key=asset_key, deps=tuple(deps)
    )
    keys = [*deps, *([] if asset_key is None else [asset_key])]
    empty_part = any("" in dg.AssetKey.from_user_string(k).path for k in keys)
    accepted = dagster_refuses(meta) is None and not empty_part
    assert (list(meta_problems(block)) == []) == accepted
