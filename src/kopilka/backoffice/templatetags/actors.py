"""Who did it, as people read it, in back-office templates (`merchants.actors.actor_labels`):

{% with actors=entries.page|actors_of %} ... {{ entry.actor|actor_in:actors }}
"""

from django import template

from kopilka.merchants.actors import actor_labels

register = template.Library()


@register.filter
def actors_of(rows) -> dict[str, str]:
    """The labels of the actors of these rows (of one merchant), in two queries."""
    rows = list(rows)
    merchant_id = rows[0].merchant_id if rows else None
    return actor_labels({row.actor for row in rows}, merchant_id)


@register.filter
def actor_in(value, labels) -> str:
    return labels.get(value, value) if labels else value
