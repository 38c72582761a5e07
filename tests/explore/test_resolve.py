"""The one target resolver: names as people quote them, and which of several definitions of
one name a change means."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from scout.explore.model import ChangeKind
from scout.explore.resolve import candidates, parse_target_name, resolve_name
from scout.haskell.model import Definition, DefKind, Span


@pytest.mark.parametrize(("name", "expected"), [
    ("symbol'", (None, "symbol'")),  # a prime ends the name: never a quote
    ("foldl'", (None, "foldl'")),
    ("f''", (None, "f''")),
    ("Text.Megaparsec.Lexer.symbol'", ("Text.Megaparsec.Lexer", "symbol'")),
    ("`symbol'`", (None, "symbol'")),
    ("'go'", (None, "go")),
    ('"render"', (None, "render")),
    ("`Types.LLMKind`", ("Types", "LLMKind")),
    ("Shop.Cart.(.+.)", ("Shop.Cart", ".+.")),
    ("(<+>)", (None, "<+>")),
    ("`f", (None, "`f")),  # an unmatched quote is not stripped
])
def test_quotes_are_stripped_only_as_matched_pairs(name: str, expected) -> None:
    assert parse_target_name(name) == expected


def _function(name: str, line: int, parent: str | None = None,
              signature: str | None = None) -> Definition:
    span = Span(line, 0, line + 2, 0)
    return Definition(name, DefKind.FUNCTION, "M", "src/M.hs", span, Span(line, 0, line, 3),
                      parent=parent, signature=signature)


@dataclass
class _Definitions:
    """Just the lookups the resolver makes, over definitions written here."""

    defs: list[Definition]
    summaries: dict = field(default_factory=dict)

    def definitions(self, name: str, kinds=None) -> list[Definition]:
        return [d for d in self.defs if d.name == name and (kinds is None or d.kind in kinds)]


def test_a_top_level_function_wins_over_a_where_bound_one_of_the_same_module() -> None:
    local = _function("go", 3, parent="run", signature="go :: Int -> Int")
    top = _function("go", 20)
    for order in ([local, top], [top, local]):
        index = _Definitions(order)
        assert candidates(index, "go", ChangeKind.CHANGE_ARITY) == [top]
        assert resolve_name(index, "go", ChangeKind.CHANGE_SIGNATURE) is top
