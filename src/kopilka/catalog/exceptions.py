"""Errors of the catalogue: categories, products, segments and item flags."""

from django.utils.translation import gettext_lazy as _

from kopilka.errors import Conflict, NotFound, ValidationFailed


class CategoryNotFound(NotFound):
    code = "category_not_found"
    default_message = _("Category not found.")


class ProductNotFound(NotFound):
    code = "product_not_found"
    default_message = _("Product not found.")


class SegmentNotFound(NotFound):
    code = "segment_not_found"
    default_message = _("Segment not found.")


class DuplicateCategory(Conflict):
    code = "duplicate_category"
    default_message = _("This category already has a subcategory with this name.")


class DuplicateProduct(Conflict):
    code = "duplicate_product"
    default_message = _("A product with this SKU already exists.")


class DuplicateSegment(Conflict):
    code = "duplicate_segment"
    default_message = _("A segment with this name already exists.")


class CategoryCycle(ValidationFailed):
    code = "category_cycle"
    default_message = _("A category cannot be moved into itself or into its own subcategory.")


class InvalidCatalogData(ValidationFailed):
    code = "validation_error"


class UnknownFlag(ValidationFailed):
    code = "unknown_flag"
    default_message = _("Unknown item flag.")
