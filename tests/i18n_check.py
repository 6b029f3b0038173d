"""Finds English left on a Russian or Ukrainian page.

A page's visible texts (text nodes, placeholders, titles, labels: see `PAGE_TEXTS_JS`) are
checked two ways:

1. **Interface words.** The English vocabulary of the interface is every word of every msgid
   of the catalogues the pages use: Kopilka's own (which holds django-unfold's strings too),
   Django's (admin, auth, forms, ...) and django-import-export's. A word of that vocabulary
   on a ru/uk page is an untranslated string ("Filters", "Доступные groups") unless the
   active language's translations use it themselves (Latin words a translator kept: "SKU",
   "CSV", "Django", "OK") or it comes from the test's own data (a product called "Latte").
2. **English sentences.** A text of two or more Latin words and more Latin than Cyrillic
   letters is English, vocabulary or not (a brand-new string nobody extracted), unless every
   one of its words is a data word.

Code (`<code>`, `<pre>`), e-mail addresses, URLs, UUIDs, time zone names and the audit
trail's identifiers ("system:demo", "catalog.product") are not language and are left out.
The method can fail: tests/test_i18n_check.py shows it catching deliberate English.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORD_RE = re.compile(r"[A-Za-z]{2,}")
CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")
LATIN_RE = re.compile(r"[A-Za-z]")
PLACEHOLDER_RE = re.compile(r"%\(\w+\)[a-z]|%[a-z]|\{\w*\}|<[^>]*>|&\w+;")
SKIP_RE = re.compile(
    r"\S+@\S+|https?://\S+|(?<!\S)/\S*|\b\w+\.(?:js|css|csv|xlsx|json)\b"
    # identifiers, not words: UUIDs, an actor's "kind:id" ("system:demo", "register:1") and
    # a model's label ("catalog.category#3") as the audit trail records them
    r"|\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b|\b[a-z_]+:[\w.-]+|\b[a-z_]+\.[a-z_]+(?:#\d+)?"
)

# Languages' own names, shown by the language switcher in their own language on purpose.
AUTONYMS = {"english"}


def _i18n_tool():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import i18n  # tools/i18n.py
    finally:
        sys.path.pop(0)
    return i18n


def upstream_catalogues(language: str) -> list[Path]:
    """The .po files of the installed packages whose strings the pages show."""
    import django
    import import_export

    roots = [Path(django.__file__).parent, Path(import_export.__file__).parent]
    found = []
    for root in roots:
        found += sorted(root.glob(f"**/locale/{language}/LC_MESSAGES/*.po"))
    return found


def own_catalogues(language: str) -> list[Path]:
    folder = ROOT / "src" / "kopilka" / "locale" / language / "LC_MESSAGES"
    return sorted(folder.glob("*.po"))


def words(text: str) -> set[str]:
    text = SKIP_RE.sub(" ", PLACEHOLDER_RE.sub(" ", text))
    return {w.lower() for w in WORD_RE.findall(text)}


@cache
def vocabulary(language: str) -> tuple[frozenset[str], frozenset[str]]:
    """(English interface words, Latin words the language's translations use themselves)."""
    i18n = _i18n_tool()
    english: set[str] = set()
    kept: set[str] = set()
    for path in own_catalogues(language) + upstream_catalogues(language):
        for msg in i18n.read_po(path)[1:]:
            if msg.obsolete:
                continue
            english |= words(msg.msgid) | words(msg.msgid_plural or "")
            for text in msg.msgstr:
                kept |= words(text)
    return frozenset(english), frozenset(kept)


@dataclass
class Checker:
    language: str
    data_words: set[str] = field(default_factory=set)

    def __post_init__(self):
        english, kept = vocabulary(self.language)
        self.english = english
        self.allowed = set(kept) | {w.lower() for w in self.data_words} | AUTONYMS

    def problem(self, text: str) -> str | None:
        """Why `text` looks untranslated, or None."""
        found = words(text)
        untranslated = sorted((found & self.english) - self.allowed)
        if untranslated:
            return f"English interface words {untranslated}"
        cleaned = SKIP_RE.sub(" ", PLACEHOLDER_RE.sub(" ", text))
        latin = len(LATIN_RE.findall(cleaned))
        cyrillic = len(CYRILLIC_RE.findall(cleaned))
        if len(found) >= 2 and latin > cyrillic and not found <= self.allowed:
            return "an English sentence"
        return None

    def problems(self, texts: Iterable[str]) -> list[tuple[str, str]]:
        seen, found = set(), []
        for text in texts:
            text = " ".join(text.split())
            if not text or text in seen or text in time_zones():
                continue
            seen.add(text)
            why = self.problem(text)
            if why:
                found.append((text, why))
        return found


@cache
def time_zones() -> frozenset[str]:
    """IANA time zone names ("Europe/Moscow", "GB"): identifiers that no language translates,
    offered as they are by the merchant's time zone field."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def data_words_of(values: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for value in values:
        found |= words(str(value))
    return found


# Run in the page: every text a person can read there. Hidden elements count too (menus,
# dropdowns and dialogs show on a click); scripts, styles, code, icons' names and typed-in
# text do not.
PAGE_TEXTS_JS = """
() => {
  const skip = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "CODE", "PRE", "KBD",
                        "SAMP", "TEXTAREA"]);
  // Material Symbols draw an icon from its name ("add", "download"): a glyph, not a word.
  const icon = (el) => [...el.classList].some((c) => c.startsWith("material-symbols"));
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    let skipped = false;
    for (let el = node.parentElement; el; el = el.parentElement) {
      if (skip.has(el.tagName) || icon(el)) { skipped = true; break; }
    }
    if (skipped) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  const attrs = ["placeholder", "title", "aria-label", "alt", "data-placeholder"];
  for (const el of document.querySelectorAll(attrs.map((a) => "[" + a + "]").join(","))) {
    for (const a of attrs) {
      const v = el.getAttribute(a);
      if (v && v.trim()) out.push(v.trim());
    }
  }
  for (const el of document.querySelectorAll("input[type=submit], input[type=button]")) {
    if (el.value) out.push(el.value);
  }
  if (document.title) out.push(document.title);
  return out;
}
"""


SKIPPED_TAGS = {"script", "style", "noscript", "template", "code", "pre", "kbd", "samp", "textarea"}
TEXT_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "data-placeholder")


def html_texts(html: str) -> list[str]:
    """What `PAGE_TEXTS_JS` reads in a browser, read from an answer's HTML (a page or an htmx
    fragment): text outside scripts, styles, code and icons, the readable attributes, the
    values of submit buttons."""
    from html.parser import HTMLParser

    void = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    class Texts(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.out: list[str] = []
            self.stack: list[bool] = []  # per open element: whether its text is skipped

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            for name in TEXT_ATTRIBUTES:
                if (attrs.get(name) or "").strip():
                    self.out.append(attrs[name].strip())
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.out.append(attrs["value"])
            if tag in void:
                return
            icon = any(c.startswith("material-symbols") for c in (attrs.get("class") or "").split())
            self.stack.append(tag in SKIPPED_TAGS or icon or bool(self.stack and self.stack[-1]))

        def handle_endtag(self, tag):
            if tag not in void and self.stack:
                self.stack.pop()

        def handle_data(self, data):
            if data.strip() and not (self.stack and self.stack[-1]):
                self.out.append(data.strip())

    parser = Texts()
    parser.feed(html)
    return parser.out
