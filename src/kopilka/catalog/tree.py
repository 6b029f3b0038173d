"""The category tree of one merchant held in memory: ancestry, subtrees and flag inheritance.

Plain Python, no database: selectors load the rows once and ask this as often as they like.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

FLAGS = ("no_accrual", "no_discount", "no_bonus_payment")


@dataclass(frozen=True)
class Flags:
    no_accrual: bool = False
    no_discount: bool = False
    no_bonus_payment: bool = False


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    # Explicit values only; None means "inherit".
    flags: Mapping[str, bool | None]


class CategoryTree:
    def __init__(self, nodes: Iterable[Node]):
        self._nodes = {n.id: n for n in nodes}
        self._children: dict[int | None, list[int]] = {}
        for node in self._nodes.values():
            self._children.setdefault(node.parent_id, []).append(node.id)
        self._resolved: dict[tuple[int, str], bool] = {}

    def __contains__(self, category_id: int) -> bool:
        return category_id in self._nodes

    def ancestors(self, category_id: int | None) -> list[int]:
        """The category itself, then its parent, up to the root."""
        chain: list[int] = []
        while category_id is not None and category_id in self._nodes:
            if category_id in chain:  # a cycle in stored data must not hang a till
                break
            chain.append(category_id)
            category_id = self._nodes[category_id].parent_id
        return chain

    def subtree(self, category_ids: Iterable[int]) -> set[int]:
        """The given categories and all their descendants."""
        found: set[int] = set()
        stack = [c for c in category_ids if c in self._nodes]
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(self._children.get(current, ()))
        return found

    def inherited(self, category_id: int | None, flag: str) -> bool:
        """The value a product in this category gets when it says nothing itself."""
        if category_id is None:
            return False
        key = (category_id, flag)
        if key not in self._resolved:
            value = False
            for ancestor in self.ancestors(category_id):
                explicit = self._nodes[ancestor].flags.get(flag)
                if explicit is not None:
                    value = explicit
                    break
            self._resolved[key] = value
        return self._resolved[key]

    def flags_for(self, category_id: int | None, explicit: Mapping[str, bool | None]) -> Flags:
        """Effective flags of an item with these explicit values in this category."""
        return Flags(
            **{
                flag: explicit.get(flag)
                if explicit.get(flag) is not None
                else self.inherited(category_id, flag)
                for flag in FLAGS
            }
        )
