"""Fill the translation catalogs from the JSON files in tools/translations/.

    .venv/bin/python tools/i18n.py extract
    .venv/bin/python tools/merge_translations.py   # then: tools/i18n.py compile

Each JSON file maps an msgid (prefixed with "context\\u0004" for pgettext) to
{"ru": ..., "uk": ..., "en": ...}: a string, or a list of forms for a plural message.
Existing translations are overwritten. msgids that are not in the catalogs (not extracted yet,
or misspelt) are listed and make the command exit 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import i18n

HERE = Path(__file__).resolve().parent / "translations"


def load() -> dict[str, dict]:
    wanted: dict[str, dict] = {}
    for path in sorted(HERE.glob("*.json")):
        wanted.update(json.loads(path.read_text(encoding="utf-8")))
    return wanted


def main() -> int:
    wanted = load()
    found: set[str] = set()
    for language in ("ru", "uk", "en"):
        path = i18n.po_path(language)
        messages = i18n.read_po(path)
        for msg in messages:
            key = msg.msgid if msg.msgctxt is None else f"{msg.msgctxt}\x04{msg.msgid}"
            entry = wanted.get(key)
            if not msg.msgid or entry is None or language not in entry:
                continue
            found.add(key)
            value = entry[language]
            forms = value if isinstance(value, list) else [value]
            if msg.msgid_plural is not None and len(forms) == 1:
                forms = forms * len(msg.msgstr)
            msg.msgstr = list(forms)
            msg.flags.discard("fuzzy")
        path.write_text(i18n.format_po(messages), encoding="utf-8")
    missing = sorted(set(wanted) - found)
    for key in missing:
        print(f"not in the catalogs: {key!r}")
    print(f"merged {len(found)} of {len(wanted)} translations")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
