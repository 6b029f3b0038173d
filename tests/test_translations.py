"""Translation catalogs: complete, compiled, and actually used by Django (no database needed)."""

import gettext
import importlib.util
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent


def _load_i18n():
    spec = importlib.util.spec_from_file_location("kopilka_i18n_tool", ROOT / "tools" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


i18n = _load_i18n()

SAMPLE_PO = r"""msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && "
"n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"

#, python-format
msgid "%(count)s bonus"
msgid_plural "%(count)s bonuses"
msgstr[0] "%(count)s бонус"
msgstr[1] "%(count)s бонуса"
msgstr[2] "%(count)s бонусов"

msgctxt "verb"
msgid "Open"
msgstr "Открыть"

msgid "Open"
msgstr "Открыт"

#, fuzzy
msgid "fuzzy"
msgstr "не готово"

msgid "untranslated"
msgstr ""

msgid "Line one\n"
"line \"two\"\ttab \\"
msgstr "Строка раз\n"
"строка «два»\tтаб \\"
"""


def test_catalogs_are_complete_and_compiled():
    problems = i18n.check()
    assert problems == [], "run `python tools/i18n.py extract`, translate, then `compile`:\n" + (
        "\n".join(problems)
    )


def test_check_command_exits_zero():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "i18n.py"), "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_po_files_are_in_canonical_form():
    for language in i18n.LANGUAGES:
        path = i18n.po_path(language)
        text = path.read_text(encoding="utf-8")
        assert i18n.format_po(i18n.parse_po(text)) == text, f"{path} is not as extract writes it"


def test_mo_writer_round_trips_through_python_gettext():
    catalog = gettext.GNUTranslations(io.BytesIO(i18n.mo_bytes(i18n.parse_po(SAMPLE_PO))))
    assert [catalog.ngettext("%(count)s bonus", "%(count)s bonuses", n) for n in (1, 3, 5)] == [
        "%(count)s бонус",
        "%(count)s бонуса",
        "%(count)s бонусов",
    ]
    plural_forms = [catalog.plural(n) for n in (0, 1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 111, 112)]
    assert plural_forms == [2, 0, 1, 1, 2, 2, 2, 2, 0, 1, 2, 2, 2]
    assert catalog.pgettext("verb", "Open") == "Открыть"
    assert catalog.gettext("Open") == "Открыт"
    assert catalog.gettext("fuzzy") == "fuzzy"  # fuzzy entries are not compiled
    assert catalog.gettext("untranslated") == "untranslated"
    assert catalog.gettext('Line one\nline "two"\ttab \\') == "Строка раз\nстрока «два»\tтаб \\"
    assert catalog.info()["content-type"] == "text/plain; charset=UTF-8"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU msgfmt is not installed")
def test_mo_writer_matches_gnu_msgfmt(tmp_path):
    sources = {"sample": SAMPLE_PO}
    sources.update(
        {lang: i18n.po_path(lang).read_text(encoding="utf-8") for lang in i18n.LANGUAGES}
    )
    for name, text in sources.items():
        po = tmp_path / f"{name}.po"
        po.write_text(text, encoding="utf-8")
        subprocess.run(["msgfmt", "-o", str(tmp_path / f"{name}.mo"), str(po)], check=True)
        gnu = (tmp_path / f"{name}.mo").read_bytes()
        ours = i18n.mo_bytes(i18n.parse_po(text))
        gnu_catalog = gettext.GNUTranslations(io.BytesIO(gnu))
        our_catalog = gettext.GNUTranslations(io.BytesIO(ours))
        assert our_catalog._catalog == gnu_catalog._catalog, name
        assert our_catalog.info() == gnu_catalog.info(), name
        assert ours == gnu, f"{name}: .mo bytes differ from msgfmt"


def test_extract_finds_python_and_template_strings(tmp_path):
    package = tmp_path / "pkg"
    (package / "templates").mkdir(parents=True)
    (package / "mod.py").write_text(
        "from django.utils.translation import gettext_lazy as _, ngettext, pgettext_lazy\n"
        "A = _('Plain ' 'joined')\n"
        "# Translators: shown on the receipt\n"
        "B = ngettext('%(n)s bonus', '%(n)s bonuses', 3)\n"
        "C = pgettext_lazy('menu', 'Open')\n"
        "D = _(some_variable)\n",
        encoding="utf-8",
    )
    (package / "templates" / "page.html").write_text(
        '{% load i18n %}{% translate "Hello" %}'
        "{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}",
        encoding="utf-8",
    )
    warnings = []
    messages = {m.key: m for m in i18n.extract_messages(package, warnings)}
    assert set(messages) == {
        (None, "Plain joined"),
        (None, "%(n)s bonus"),
        ("menu", "Open"),
        (None, "Hello"),
        (None, "Hi %(name)s"),
    }
    assert messages[(None, "%(n)s bonus")].msgid_plural == "%(n)s bonuses"
    assert messages[(None, "%(n)s bonus")].extracted == ["Translators: shown on the receipt"]
    assert "python-format" in messages[(None, "Hi %(name)s")].flags
    assert len(warnings) == 1 and "not a string literal" in warnings[0]


def test_merge_keeps_translations_and_drops_obsolete():
    source = [i18n.Message(msgid="kept"), i18n.Message(msgid="new")]
    old = i18n.parse_po('msgid "kept"\nmsgstr "сохранено"\n\nmsgid "gone"\nmsgstr "удалено"\n')
    merged = i18n.merge("ru", source, old)
    assert [(m.msgid, m.msgstr) for m in merged[1:]] == [("kept", ["сохранено"]), ("new", [""])]
    assert "Plural-Forms: " + i18n.PLURAL_FORMS["ru"] in merged[0].msgstr[0]


def test_check_reports_broken_placeholders():
    msg = i18n.Message(
        msgid="At most {n} characters.", msgstr=["Не более {count}."], flags={"python-brace-format"}
    )
    assert i18n.placeholder_problems(msg)


def test_messages_are_translated_at_runtime():
    from kopilka.customers.models import Customer
    from kopilka.ledger.exceptions import InsufficientBalance

    expected = {
        "ru": ("Недостаточно доступных бонусов.", "покупатель", "покупатели"),
        "uk": ("Недостатньо доступних бонусів.", "покупець", "покупці"),
        "en": ("Not enough bonuses available.", "customer", "customers"),
    }
    for language, (message, name, name_plural) in expected.items():
        with translation.override(language):
            error = InsufficientBalance(available=1, requested=2)
            assert str(error.message) == message, language
            assert str(InsufficientBalance.default_message) == message, language
            assert str(Customer._meta.verbose_name) == name, language
            assert str(Customer._meta.verbose_name_plural) == name_plural, language


def test_formatted_message_is_translated():
    from kopilka.customers.exceptions import PlanLimitReached

    with translation.override("ru"):
        assert str(PlanLimitReached(limit=500).message) == (
            "Достигнут лимит покупателей по вашему тарифу (500)."
        )
    with translation.override("uk"):
        assert str(PlanLimitReached(limit=500).message) == (
            "Досягнуто ліміту покупців за вашим тарифом (500)."
        )
    with translation.override("en"):
        assert str(PlanLimitReached(limit=500).message) == (
            "The customer limit of your plan (500) is reached."
        )
