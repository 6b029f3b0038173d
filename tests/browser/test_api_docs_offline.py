"""/api/v1/docs works in a shop without the internet: Swagger UI comes from Kopilka's own
static files (django-ninja's), and the page lists the API's operations with every request
to anywhere but this server refused."""

from urllib.parse import urlsplit

from playwright.sync_api import expect

LOCAL = {"localhost", "127.0.0.1", "::1"}


def test_the_api_docs_list_the_operations_with_no_internet(page):
    refused = []

    def only_this_server(route):
        if urlsplit(route.request.url).hostname in LOCAL:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_this_server)
    page.goto("/api/v1/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 5
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/receipts" in path for path in paths), paths
    assert any("/api/v1/customers" in path for path in paths), paths
    assert refused == []
