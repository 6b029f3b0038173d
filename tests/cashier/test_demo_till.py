"""The demo (`make run`) is ready for the cashier screen: a cashier login, registers to choose,
products with barcodes that already have a price."""

from django.core.management import call_command
from django.test import Client

from kopilka.catalog.models import Product
from kopilka.demo import DEMO_PASSWORD


def test_the_demo_cashier_signs_in_and_scans_a_demo_product_with_its_last_price(db, capsys):
    call_command("demo", "--if-absent", "--customers", "20", "--months", "3")
    capsys.readouterr()
    client = Client(headers={"Accept-Language": "en"})
    response = client.post("/cashier/login/", {"username": "cashier", "password": DEMO_PASSWORD})
    assert response.url == "/cashier/"
    choice = client.get("/cashier/register/").content.decode()
    assert "Магазин на Тверской" in choice and "Киоск у метро" in choice
    register = choice.split('name="register" value="')[1].split('"')[0]
    client.post("/cashier/register/", {"register": register})

    assert Product.objects.exclude(barcode="").count() == Product.objects.count()
    coffee = Product.objects.get(sku="GR-002")
    page = client.post("/cashier/scan/", {"code": coffee.barcode}).content.decode()
    assert 'data-sku="GR-002"' in page
    assert 'id="price-0" name="line_price" class="num" value="520.00"' in page
