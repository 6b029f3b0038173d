"""A form field of repeated rows: a small table of inputs (a gift's set as product + quantity,
a rule's steps as threshold + percent) typed in place instead of a JSON text box.

The field cleans to a list of dicts, one per filled row, each column cleaned by its own form
field (a MoneyField gives kopecks, an IntegerField a whole number); blank rows are dropped.
A few blank rows are always offered after the filled ones, and "Add a row" adds more in the
browser. Every error names its row.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

INPUT_CLASSES = (
    "border border-base-200 bg-white font-medium min-w-20 px-3 py-2 rounded-default "
    "shadow-xs text-font-default-light text-sm focus:ring-2 focus:ring-primary-300 "
    "focus:border-primary-600 focus:outline-hidden dark:bg-base-900 dark:border-base-700 "
    "dark:text-font-default-dark w-full"
)


class Column:
    """One column: the key in each row's dict, the header label, its form field, and a
    datalist of suggestions ((value, label) pairs) for a typed-in value such as a SKU."""

    def __init__(self, key: str, label, field: forms.Field, *, suggestions=None, width="auto"):
        self.key, self.label, self.field = key, label, field
        self.suggestions = suggestions
        self.width = width


class RowsWidget(forms.Widget):
    def __init__(self, columns: list[Column], extra: int = 2, attrs=None):
        super().__init__(attrs)
        self.columns, self.extra = columns, extra

    def value_from_datadict(self, data, files, name):
        try:
            count = min(int(data.get(f"{name}-rows", 0)), 500)
        except (TypeError, ValueError):
            count = 0
        return [
            {column.key: data.get(f"{name}-{i}-{column.key}", "") for column in self.columns}
            for i in range(count)
        ]

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-rows" not in data

    def _shown(self, value) -> list[dict]:
        rows = []
        for row in value or []:
            if not isinstance(row, dict):
                continue
            rows.append(
                {column.key: self._text(column, row.get(column.key)) for column in self.columns}
            )
        return rows

    @staticmethod
    def _text(column: Column, value) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        value = column.field.prepare_value(value)
        return str(formats.localize_input(value))

    def render(self, name, value, attrs=None, renderer=None):
        rows = self._shown(value)
        rows += [dict.fromkeys((c.key for c in self.columns), "")] * self.extra
        element_id = (attrs or {}).get("id") or f"id_{name}"
        lists = format_html_join(
            "",
            '<datalist id="{}-{}">{}</datalist>',
            (
                (
                    element_id,
                    column.key,
                    format_html_join(
                        "", '<option value="{}">{}</option>', column.suggestions or ()
                    ),
                )
                for column in self.columns
                if column.suggestions is not None
            ),
        )
        head = format_html_join(
            "",
            '<th class="font-semibold px-1 pb-1 text-left text-sm" style="width:{}">{}</th>',
            ((column.width, column.label) for column in self.columns),
        )
        body = format_html_join(
            "",
            '<tr data-row="{}">{}</tr>',
            ((i, self._cells(name, element_id, i, row)) for i, row in enumerate(rows)),
        )
        return format_html(
            '<div class="kopilka-rows" id="{id}" data-name="{name}">'
            '<input type="hidden" name="{name}-rows" value="{count}">'
            '<table class="w-full"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            '{lists}<button type="button" class="kopilka-rows-add text-primary-600 text-sm mt-1" '
            'onclick="kopilkaAddRow(this)">{add}</button></div>{script}',
            id=element_id,
            name=name,
            count=len(rows),
            head=head,
            body=body,
            lists=lists,
            add=gettext("+ Add a row"),
            script=mark_safe(ADD_ROW_SCRIPT),
        )

    def _cells(self, name, element_id, i, row):
        cells = []
        for column in self.columns:
            attrs = {
                "class": INPUT_CLASSES,
                "name": f"{name}-{i}-{column.key}",
                "value": row.get(column.key, ""),
                "aria-label": str(column.label),
                "type": "text",
            }
            if isinstance(column.field, forms.IntegerField | forms.DecimalField):
                attrs["inputmode"] = "decimal"
            if column.suggestions is not None:
                attrs["list"] = f"{element_id}-{column.key}"
            cells.append(
                format_html(
                    '<td class="pb-1 pr-2"><input{}></td>',
                    format_html_join("", ' {}="{}"', sorted(attrs.items())),
                )
            )
        return mark_safe("".join(cells))


# Copies the last row with empty inputs and renumbers it; the count tells the server how many.
ADD_ROW_SCRIPT = """<script>
window.kopilkaAddRow = window.kopilkaAddRow || function (button) {
    var box = button.closest(".kopilka-rows");
    var count = box.querySelector("input[name$='-rows']");
    var rows = box.querySelectorAll("tbody tr");
    var row = rows[rows.length - 1].cloneNode(true);
    var n = parseInt(count.value, 10);
    row.dataset.row = n;
    row.querySelectorAll("input").forEach(function (input) {
        input.name = input.name.replace(/-\\d+-([^-]+)$/, "-" + n + "-$1");
        input.value = "";
    });
    rows[rows.length - 1].parentNode.appendChild(row);
    count.value = n + 1;
};
</script>"""


class RowsField(forms.Field):
    """Rows of `columns`; cleans to a list of dicts (blank rows dropped)."""

    def __init__(self, columns: list[Column], *, extra: int = 2, **kwargs):
        self.columns = columns
        kwargs.setdefault("widget", RowsWidget(columns, extra=extra))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def suggest(self, key: str, suggestions) -> None:
        """Offer (value, label) suggestions in column `key` of this form's copy of the field
        (columns are shared by every copy of the field: they are replaced, not changed)."""
        self.columns = [
            Column(
                column.key,
                column.label,
                column.field,
                suggestions=suggestions if column.key == key else column.suggestions,
                width=column.width,
            )
            for column in self.columns
        ]
        self.widget.columns = self.columns

    def to_python(self, value):
        if not value:
            return []
        rows, errors = [], []
        for n, row in enumerate(value, start=1):
            if not isinstance(row, dict):
                continue
            texts = {column.key: str(row.get(column.key, "")).strip() for column in self.columns}
            if not any(texts.values()):
                continue
            cleaned = {}
            for column in self.columns:
                try:
                    if texts[column.key] == "" and not column.field.required:
                        cleaned[column.key] = column.field.clean(texts[column.key])
                        continue
                    if texts[column.key] == "":
                        raise ValidationError(_("Fill in “%(column)s”.") % {"column": column.label})
                    cleaned[column.key] = column.field.clean(texts[column.key])
                except ValidationError as error:
                    for message in error.messages:
                        errors.append(
                            ValidationError(
                                _("Row %(row)s, %(column)s: %(problem)s")
                                % {"row": n, "column": column.label, "problem": message}
                            )
                        )
            rows.append(cleaned)
        if errors:
            raise ValidationError(errors)
        return rows

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def has_changed(self, initial, data):
        try:
            return self._normal(self.to_python(data)) != self._normal(initial)
        except ValidationError:
            return True

    def _normal(self, rows):
        normal = []
        for row in rows or []:
            if isinstance(row, dict):
                normal.append(tuple(_plain(row.get(column.key)) for column in self.columns))
        return sorted(normal)


def _plain(value) -> str:
    """A cell's value compared across its stored and typed forms (5.000 and 5 are equal)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return format(Decimal(str(value)).normalize(), "f")
    return "" if value is None else str(value)
