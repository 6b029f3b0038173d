"""The catalog app's hand-written statements: the catalogue a receipt's lines need, read on
every quote and sale in one statement (the ORM spent more CPU building the queries than the
database spent running them)."""

from __future__ import annotations

from kopilka import hotsql

from .models import Category, Product, Segment
from .tree import FLAGS


def _with_segments(sql: str, params: list, *, prepare: bool = True) -> dict[tuple, tuple]:
    """Run a query of rows (kind, id, ..., segment id), one per segment of the merchant
    naming the item (a single one, segment id NULL, when none does), and fold them into
    {(kind, id): (row without kind and segment, segment ids)}."""
    folded: dict[tuple, tuple[tuple, set[int]]] = {}
    for kind, *row, segment_id in hotsql.rows(hotsql.default_db(), sql, params, prepare=prepare):
        _, segment_ids = folded.setdefault((kind, row[0]), (tuple(row), set()))
        if segment_id is not None:
            segment_ids.add(segment_id)
    return folded


def _naming_join(table: str, through, column: str) -> str:
    """`table` (aliased t) with the merchant's segments naming each row (the first
    parameter is the merchant)."""
    return (
        f"FROM {table} t LEFT JOIN {through._meta.db_table} named ON named.{column} = t.id "
        f"LEFT JOIN {Segment._meta.db_table} s ON s.id = named.segment_id AND s.merchant_id = %s"
    )


# The products (kind 'p') and the categories (kind 'c') come in one statement, one round trip.
_FLAG_COLUMNS = ", ".join(f"t.{flag}" for flag in FLAGS)
_CATALOG = (
    f"SELECT 'p', t.id, t.sku, t.category_id, {_FLAG_COLUMNS}, s.id "
    + _naming_join(Product._meta.db_table, Segment.products.through, "product_id")
    + " WHERE t.merchant_id = %s AND t.sku IN ({skus}) UNION ALL "
    f"SELECT 'c', t.id, NULL, t.parent_id, {_FLAG_COLUMNS}, s.id "
    + _naming_join(Category._meta.db_table, Segment.categories.through, "category_id")
    + " WHERE t.merchant_id = %s"
)


def products_and_categories(*, merchant_id: int, skus: list[str]) -> dict[tuple, tuple]:
    """The merchant's products with these SKUs and all its categories, with the segments
    naming each: {("p", id): ((id, sku, category id, *flags), segment ids),
    ("c", id): ((id, None, parent id, *flags), segment ids)} (flags in `tree.FLAGS` order)."""
    return _with_segments(
        _CATALOG.format(skus=", ".join(["%s"] * len(skus))),
        [merchant_id, merchant_id, *skus, merchant_id, merchant_id],
        # One statement per number of SKUs: the usual receipts' are worth preparing.
        prepare=len(skus) <= 30,
    )
