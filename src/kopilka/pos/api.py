"""The POS API v1: one NinjaAPI, authenticated by register keys, errors as problem documents."""

from ninja import NinjaAPI
from ninja.parser import Parser

from . import problems
from .auth import RegisterKey


class StrictJSONParser(Parser):
    """Reject bodies that are not a JSON object, instead of letting them reach the schemas."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            from ninja.errors import HttpError

            raise HttpError(400, "The body must be a JSON object.")
        return data


api = NinjaAPI(
    title="Kopilka POS API",
    version="1",
    description="Identify and register customers, quote and confirm receipts, refunds.",
    urls_namespace="api-v1",
    docs_url="/docs",
    auth=RegisterKey(),
    parser=StrictJSONParser(),
)
problems.install(api)

from .api_customers import router as customers_router  # noqa: E402
from .api_receipts import router as receipts_router  # noqa: E402

api.add_router("/customers", customers_router)
api.add_router("/receipts", receipts_router)
