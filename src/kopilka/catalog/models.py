"""The merchant's catalogue: a category tree, products, segments, and the three item flags.

A flag left empty (None) inherits from the parent category; the first explicit value found
walking up from the product decides, and "not excluded" is the default at the root.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kopilka.merchants.models import Merchant

from .tree import FLAGS  # noqa: F401  (one definition, re-exported for model users)


class FlagFields(models.Model):
    no_accrual = models.BooleanField(_("no bonus accrual"), null=True, blank=True)
    no_discount = models.BooleanField(_("no discounts"), null=True, blank=True)
    no_bonus_payment = models.BooleanField(_("no payment by bonuses"), null=True, blank=True)

    class Meta:
        abstract = True


class Category(FlagFields):
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "parent", "name"], name="category_name_unique"
            ),
            # NULLs are distinct in a unique index, so top-level names need their own one.
            models.UniqueConstraint(
                fields=["merchant", "name"],
                condition=models.Q(parent__isnull=True),
                name="category_root_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(FlagFields):
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=300)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("category"),
    )
    barcode = models.CharField(_("barcode"), max_length=32, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sku"], name="product_sku_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Segment(models.Model):
    """A named set of categories (with their subtrees) and single products, e.g. "bar"."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=200)
    categories = models.ManyToManyField(
        Category, blank=True, related_name="segments", verbose_name=_("categories")
    )
    products = models.ManyToManyField(
        Product, blank=True, related_name="segments", verbose_name=_("products")
    )

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="segment_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name
