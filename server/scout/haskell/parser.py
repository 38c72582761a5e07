"""tree-sitter-haskell setup: the language, a parser per thread/process, compiled queries.

Compiling a query costs ~50 ms for this grammar (FACTS.md), so queries are compiled once per
process and cached; nothing here is mutable state shared between callers.
"""

from __future__ import annotations

import threading
from functools import cache, lru_cache

import tree_sitter_haskell
from tree_sitter import Language, Parser, Query

GRAMMAR_VERSION = "tree-sitter-haskell-0.24.1"


@lru_cache(maxsize=1)
def language() -> Language:
    return Language(tree_sitter_haskell.language())


_local = threading.local()


def parser() -> Parser:
    """A parser for the calling thread (tree-sitter parsers are not thread-safe)."""
    p = getattr(_local, "parser", None)
    if p is None:
        p = Parser(language())
        _local.parser = p
    return p


@cache
def query(source: str) -> Query:
    return Query(language(), source)
