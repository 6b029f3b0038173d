"""Translation catalogs of Kopilka without GNU gettext: extract, compile, check.

    .venv/bin/python tools/i18n.py extract   # source -> src/kopilka/locale/*/LC_MESSAGES/django.po
    .venv/bin/python tools/i18n.py compile   # .po -> .mo (pure-Python MO writer)
    .venv/bin/python tools/i18n.py check     # exit 1 on missing/untranslated strings or stale .mo

Standard library and Django only. `extract` parses src/kopilka/**/*.py with `ast` (calls of _,
gettext, ngettext, pgettext, npgettext and their _lazy/_noop variants with string literals) and
templates with Django's own `templatize`, keeps existing translations, adds new msgids with an
empty msgstr and drops obsolete ones. References are file names without line numbers so that
edits elsewhere in a file do not churn the catalogs. `compile` writes the same .mo files as GNU
msgfmt (sorted originals, hash table; untranslated and fuzzy entries left out). `check` fails
when a source string is missing from a catalog, untranslated (or fuzzy) in ru or uk, has
placeholders that differ from the source, or when a .mo differs from what its .po compiles to.
English may keep msgstr empty: gettext then falls back to the English source.

Third-party strings: django-unfold ships no Russian or Ukrainian catalogue, so `extract` also
reads its source (THIRD_PARTY; references "unfold:<path>") and its msgids are translated here;
kopilka/backoffice/django_strings.py lists Django's own messages Kopilka words differently
(gender-neutral "Добавлено: {name} «{obj}»") or that Django's catalogues leave untranslated.
Kopilka's catalogue wins over the apps' (LOCALE_PATHS). The djangojs catalogues (overrides of
the admin's JavaScript strings) are hand-written .po files that `compile` and `check` cover.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import struct
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "kopilka"
LOCALE_DIR = PACKAGE / "locale"
DOMAIN = "django"
# Overrides of Django admin's JavaScript strings (the djangojs domain: the related-objects
# selector's "и и нажмите" and the like). Written by hand, nothing to extract: the project's
# catalogue only needs the messages it words differently; `compile` and `check` cover it.
JS_DOMAIN = "djangojs"
PROJECT = "kopilka"

PLURAL_SLAVIC = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)
PLURAL_FORMS = {"ru": PLURAL_SLAVIC, "uk": PLURAL_SLAVIC, "en": "nplurals=2; plural=(n != 1);"}
LANGUAGES = tuple(PLURAL_FORMS)
LANGUAGE_TEAMS = {"ru": "Russian", "uk": "Ukrainian", "en": "English"}
REQUIRED_LANGUAGES = ("ru", "uk")  # en may leave msgstr empty (the source is English)

# function name -> roles of its leading positional arguments
KEYWORDS: dict[str, tuple[str, ...]] = {}
for _name in ("_", "gettext", "gettext_lazy", "gettext_noop"):
    KEYWORDS[_name] = ("msgid",)
for _name in ("ngettext", "ngettext_lazy"):
    KEYWORDS[_name] = ("msgid", "plural")
for _name in ("pgettext", "pgettext_lazy"):
    KEYWORDS[_name] = ("context", "msgid")
for _name in ("npgettext", "npgettext_lazy"):
    KEYWORDS[_name] = ("context", "msgid", "plural")

TEMPLATE_SUFFIXES = {".html", ".txt", ".xml", ".email"}

# Third-party packages whose strings Kopilka translates itself: django-unfold ships no Russian
# or Ukrainian catalogue, so its msgids join the project's catalogue (LOCALE_PATHS wins over
# the apps' own catalogues), referenced as "unfold:<path>". Its contrib apps that Kopilka does
# not install are left out. Warnings about non-literal calls in their code are not ours.
THIRD_PARTY = {
    "unfold": (
        "contrib/constance",
        "contrib/guardian",
        "contrib/location_field",
        "contrib/simple_history",
    ),
}
TEMPLATE_TAG_RE = re.compile(r"\{%\s*(?:trans|translate|blocktrans|blocktranslate)\b")
TEMPLATE_CALL_RE = re.compile(r"\b(" + "|".join(map(re.escape, KEYWORDS)) + r")\(")
TRANSLATORS_MARK = "Translators"

PY_FORMAT_RE = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?P<conv>[diouxXeEfFgGcrsa%])"
)
BRACE_FORMAT_RE = re.compile(r"\{\{|\}\}|\{(?P<field>[^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")


# --------------------------------------------------------------------------- messages


@dataclass
class Message:
    """One catalog entry. `msgstr` has one item, or nplurals items for a plural message."""

    msgid: str
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=lambda: [""])
    flags: set[str] = field(default_factory=set)
    references: set[str] = field(default_factory=set)
    comments: list[str] = field(default_factory=list)  # translator comments "# ..."
    extracted: list[str] = field(default_factory=list)  # "#. ..." from the source
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return not self.fuzzy and all(self.msgstr)

    def label(self) -> str:
        text = repr(self.msgid)
        if self.msgctxt is not None:
            text = f"{self.msgctxt!r} | {text}"
        return text


def sort_key(msg: Message) -> tuple[str, bool, str]:
    return (msg.msgid, msg.msgctxt is not None, msg.msgctxt or "")


def format_flags(msgid: str, plural: str | None) -> set[str]:
    flags = set()
    for text in (msgid, plural or ""):
        if any(m.group("conv") != "%" for m in PY_FORMAT_RE.finditer(text)):
            flags.add("python-format")
        if any(m.group("field") is not None for m in BRACE_FORMAT_RE.finditer(text)):
            flags.add("python-brace-format")
    return flags


# --------------------------------------------------------------------------- extraction


class Extractor:
    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self.messages: dict[tuple[str | None, str], Message] = {}
        self.warnings: list[str] = []
        self.prefix: str | None = None  # set while reading a third-party package
        self.prefix_root: Path = root

    def add(
        self,
        where: str,
        line: int,
        msgid: str,
        plural: str | None,
        context: str | None,
        comments: list[str],
    ) -> None:
        if msgid == "":
            self.warnings.append(f"{where}:{line}: empty msgid is reserved for the header")
            return
        key = (context, msgid)
        msg = self.messages.get(key)
        if msg is None:
            msg = self.messages[key] = Message(msgid=msgid, msgctxt=context)
        if plural is not None:
            if msg.msgid_plural not in (None, plural):
                self.warnings.append(
                    f"{where}:{line}: {msgid!r} has two plural forms: "
                    f"{msg.msgid_plural!r} and {plural!r}; keeping the first"
                )
            else:
                msg.msgid_plural = plural
        msg.references.add(where)
        for comment in comments:
            if comment not in msg.extracted:
                msg.extracted.append(comment)

    def relative(self, path: Path) -> str:
        if self.prefix is not None:
            return f"{self.prefix}:{path.relative_to(self.prefix_root).as_posix()}"
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    # ---- Python

    def python_file(self, path: Path) -> None:
        source = path.read_text(encoding="utf-8")
        where = self.relative(path)
        try:
            tree = ast.parse(source, filename=str(path))
        except SyntaxError as exc:
            self.warnings.append(f"{where}:{exc.lineno}: cannot parse: {exc.msg}")
            return
        comments = translator_comments(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.call(node, where, comments)

    def call(self, node: ast.Call, where: str, comments: dict[int, list[str]]) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute) and func.attr != "_":
            name = func.attr
        else:
            return
        roles = KEYWORDS.get(name)
        if roles is None:
            return
        values: dict[str, str] = {}
        for role, arg in zip(roles, node.args, strict=False):
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                values[role] = arg.value
            else:
                self.warnings.append(
                    f"{where}:{node.lineno}: {name}() argument {role!r} is not a string "
                    f"literal; it cannot be extracted"
                )
                return
        if len(values) < len(roles):
            if node.args or node.keywords:  # `_` may be an unrelated callable
                self.warnings.append(f"{where}:{node.lineno}: {name}() call without a literal")
            return
        self.add(
            where,
            node.lineno,
            values["msgid"],
            values.get("plural"),
            values.get("context"),
            comments.get(node.lineno, []),
        )

    # ---- templates

    def template_file(self, path: Path) -> None:
        source = path.read_text(encoding="utf-8")
        if not TEMPLATE_TAG_RE.search(source) and "_(" not in source:
            return
        from django.utils.translation.template import templatize

        where = self.relative(path)
        code = templatize(source, origin=str(path))
        for match in TEMPLATE_CALL_RE.finditer(code):
            line = code.count("\n", 0, match.start()) + 1
            end = closing_paren(code, match.end())
            if end is None:
                self.warnings.append(f"{where}:{line}: unbalanced {match.group(1)}( call")
                continue
            try:
                node = ast.parse(code[match.start() : end + 1].strip(), mode="eval").body
            except SyntaxError:
                self.warnings.append(f"{where}:{line}: cannot parse {match.group(0)}...)")
                continue
            if isinstance(node, ast.Call):
                node.lineno = line
                self.call(node, where, {})

    # ---- all

    def run(self, package: Path = PACKAGE, third_party: dict | None = None) -> list[Message]:
        self.files(package)
        for name, left_out in (third_party or {}).items():
            root = third_party_root(name)
            if root is None:
                self.warnings.append(f"{name} is not installed: its strings are not extracted")
                continue
            own_warnings = self.warnings
            self.warnings, self.prefix, self.prefix_root = [], name, root
            try:
                self.files(root, left_out=tuple(root / part for part in left_out))
            finally:
                self.warnings, self.prefix, self.prefix_root = own_warnings, None, self.root
        for msg in self.messages.values():
            msg.flags = format_flags(msg.msgid, msg.msgid_plural)
        return sorted(self.messages.values(), key=sort_key)

    def files(self, package: Path, left_out: tuple[Path, ...] = ()) -> None:
        for path in sorted(package.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if any(path.is_relative_to(part) for part in left_out):
                continue
            if path.suffix == ".py":
                self.python_file(path)
            elif path.suffix in TEMPLATE_SUFFIXES and "templates" in path.parts:
                self.template_file(path)


def third_party_root(name: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def translator_comments(source: str) -> dict[int, list[str]]:
    """Line number -> a `# Translators: ...` comment block right above (or on) that line."""
    result: dict[int, list[str]] = {}
    block: list[str] = []
    block_end = 0
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return result
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        text = tok.string.lstrip("#").strip()
        row = tok.start[0]
        if block and row == block_end + 1 and not text.startswith(TRANSLATORS_MARK):
            block.append(text)
            block_end = row
        elif text.startswith(TRANSLATORS_MARK):
            block = [text]
            block_end = row
        else:
            block = []
            continue
        result[row] = list(block)  # a call on the comment's own line
        result[row + 1] = list(block)  # a call on the line after the block
    return result


def closing_paren(code: str, start: int) -> int | None:
    depth, quote, i = 1, "", start
    while i < len(code):
        ch = code[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def extract_messages(
    package: Path = PACKAGE, warnings: list[str] | None = None, third_party: dict | None = None
) -> list[Message]:
    """The messages of `package`, and of the THIRD_PARTY packages when it is Kopilka's own."""
    if third_party is None:
        third_party = THIRD_PARTY if package == PACKAGE else {}
    extractor = Extractor()
    messages = extractor.run(package, third_party)
    if warnings is not None:
        warnings.extend(extractor.warnings)
    return messages


# --------------------------------------------------------------------------- PO files

ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
ESCAPES.update({"f": "\f", "v": "\v"})
UNESCAPE_RE = re.compile(r"\\(?:([ntr\"\\abfv])|([0-7]{1,3})|x([0-9a-fA-F]{1,2}))")
PO_LINE_RE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


class POError(ValueError):
    pass


def unquote(text: str, where: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise POError(f"{where}: expected a quoted string, got {text!r}")

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return ESCAPES[match.group(1)]
        if match.group(2):
            return chr(int(match.group(2), 8))
        return chr(int(match.group(3), 16))

    return UNESCAPE_RE.sub(replace, text[1:-1])


def quote(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + '"'


def parse_po(text: str, name: str = "<po>") -> list[Message]:
    messages: list[Message] = []
    fields: dict[str, list[str]] = {}
    last: str | None = None
    pending_flags: set[str] = set()
    pending_refs: set[str] = set()
    pending_comments: list[str] = []
    pending_extracted: list[str] = []
    obsolete = False

    def finish() -> None:
        nonlocal fields, last, pending_flags, pending_refs, pending_comments
        nonlocal pending_extracted, obsolete
        if fields:
            if "msgid" not in fields:
                raise POError(f"{name}: entry without msgid before line {lineno}")
            plural_keys = sorted(
                (k for k in fields if k.startswith("msgstr[")), key=lambda k: int(k[7:-1])
            )
            if "msgid_plural" in fields:
                msgstr = ["".join(fields[k]) for k in plural_keys] or [""]
            else:
                msgstr = ["".join(fields.get("msgstr", [""]))]
            messages.append(
                Message(
                    msgid="".join(fields["msgid"]),
                    msgid_plural="".join(fields["msgid_plural"])
                    if "msgid_plural" in fields
                    else None,
                    msgctxt="".join(fields["msgctxt"]) if "msgctxt" in fields else None,
                    msgstr=msgstr,
                    flags=pending_flags,
                    references=pending_refs,
                    comments=pending_comments,
                    extracted=pending_extracted,
                    obsolete=obsolete,
                )
            )
        fields, last, obsolete = {}, None, False
        pending_flags, pending_refs, pending_comments, pending_extracted = set(), set(), [], []

    lineno = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"{name}:{lineno}"
        is_obsolete = line.startswith("#~")
        if is_obsolete:
            line = line[2:].strip()
            if line.startswith("|"):  # previous msgid of an obsolete entry
                continue
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if fields:
                finish()
            if line.startswith("#,"):
                pending_flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            elif line.startswith("#:"):
                pending_refs |= set(line[2:].split())
            elif line.startswith("#."):
                pending_extracted.append(line[2:].strip())
            elif line.startswith("#|"):
                pass
            else:
                pending_comments.append(line[1:].strip())
            continue
        match = PO_LINE_RE.match(line)
        if match:
            keyword = match.group(1)
            if keyword in ("msgctxt", "msgid") and any(k.startswith("msgstr") for k in fields):
                finish()
            if keyword in fields:
                raise POError(f"{where}: duplicate {keyword}")
            obsolete = obsolete or is_obsolete
            fields[keyword] = [unquote(match.group(3), where)]
            last = keyword
        elif line.startswith('"'):
            if last is None:
                raise POError(f"{where}: continuation line without a keyword")
            fields[last].append(unquote(line, where))
        else:
            raise POError(f"{where}: cannot parse {raw!r}")
    finish()
    seen: set[tuple[str | None, str]] = set()
    for msg in messages:
        if msg.obsolete:
            continue
        if msg.key in seen:
            raise POError(f"{name}: duplicate message {msg.label()}")
        seen.add(msg.key)
    return messages


def read_po(path: Path) -> list[Message]:
    return parse_po(path.read_text(encoding="utf-8"), name=str(path))


def wrap(text: str, width: int = 76) -> list[str]:
    """Split `text` into pieces after newlines and spaces so quoted lines stay short."""
    pieces: list[str] = []
    for chunk in re.split(r"(?<=\n)", text):
        if not chunk:
            continue
        line = ""
        for word in re.split(r"(?<= )", chunk):
            if line and len(quote(line + word)) > width:
                pieces.append(line)
                line = ""
            line += word
        if line:
            pieces.append(line)
    return pieces


def po_string(keyword: str, text: str) -> list[str]:
    single = f"{keyword} {quote(text)}"
    if len(single) <= 79 and "\n" not in text[:-1]:
        return [single]
    return [f'{keyword} ""', *(quote(piece) for piece in wrap(text))]


def format_entry(msg: Message) -> list[str]:
    lines = [f"# {c}".rstrip() for c in msg.comments]
    lines += [f"#. {c}".rstrip() for c in msg.extracted]
    lines += [f"#: {ref}" for ref in sorted(msg.references)]
    if msg.flags:
        lines.append("#, " + ", ".join(sorted(msg.flags)))
    if msg.msgctxt is not None:
        lines += po_string("msgctxt", msg.msgctxt)
    lines += po_string("msgid", msg.msgid)
    if msg.msgid_plural is not None:
        lines += po_string("msgid_plural", msg.msgid_plural)
        for i, text in enumerate(msg.msgstr):
            lines += po_string(f"msgstr[{i}]", text)
    else:
        lines += po_string("msgstr", msg.msgstr[0])
    return lines


def format_po(messages: Iterable[Message]) -> str:
    return "\n\n".join("\n".join(format_entry(m)) for m in messages) + "\n"


def nplurals(plural_forms: str) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", plural_forms)
    return int(match.group(1)) if match else 2


def parse_header(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def make_header(language: str, old: Message | None) -> Message:
    fields = {
        "Project-Id-Version": PROJECT,
        "Report-Msgid-Bugs-To": "",
        "Last-Translator": "Kopilka team",
        "Language-Team": LANGUAGE_TEAMS[language],
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": PLURAL_FORMS[language],
    }
    if old is not None:  # keep fields someone added by hand (Last-Translator, Language-Team...)
        fixed = {"Language", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"}
        fixed.add("Plural-Forms")
        for name, value in parse_header(old.msgstr[0]).items():
            if name not in fixed:
                fields[name] = value
    text = "".join(f"{name}: {value}\n" for name, value in fields.items())
    comments = old.comments if old is not None and old.comments else [_header_comment(language)]
    return Message(msgid="", msgstr=[text], comments=comments)


def _header_comment(language: str) -> str:
    return f"Kopilka translations ({language}). Generated by tools/i18n.py extract; edit msgstr."


def po_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def merge(language: str, source: list[Message], old: list[Message]) -> list[Message]:
    """The catalog of `language`: source messages with translations kept from `old`."""
    n = nplurals(PLURAL_FORMS[language])
    previous = {m.key: m for m in old if not m.obsolete}
    result = [make_header(language, previous.get((None, "")))]
    for src in source:
        prev = previous.get(src.key)
        msg = Message(
            msgid=src.msgid,
            msgid_plural=src.msgid_plural,
            msgctxt=src.msgctxt,
            msgstr=[""] * (n if src.msgid_plural is not None else 1),
            flags=set(src.flags),
            references=set(src.references),
            extracted=list(src.extracted),
        )
        if prev is not None:
            msg.comments = list(prev.comments)
            if "fuzzy" in prev.flags:
                msg.flags.add("fuzzy")
            if (prev.msgid_plural is None) == (src.msgid_plural is None):
                for i, text in enumerate(prev.msgstr[: len(msg.msgstr)]):
                    msg.msgstr[i] = text
            elif prev.msgstr[0]:  # singular <-> plural: keep the text for review
                msg.msgstr[0] = prev.msgstr[0]
                msg.flags.add("fuzzy")
        result.append(msg)
    return result


# --------------------------------------------------------------------------- MO files


def hash_string(data: bytes) -> int:
    """hashpjw as in GNU gettext's hash-string.c (stops at the first NUL, like C does)."""
    hval = 0
    for byte in data:
        if byte == 0:
            break
        hval = (hval << 4) + byte
        high = hval & ~0xFFFFFFF
        if high:
            hval ^= high >> 24
            hval ^= high
    return hval


def _is_prime(candidate: int) -> bool:  # GNU gettext's approximate test for odd numbers >= 3
    divn = 3
    sq = divn * divn
    while sq < candidate and candidate % divn != 0:
        divn += 1
        sq += 4 * divn
        divn += 1
    return candidate % divn != 0


def hash_table_size(count: int) -> int:
    size = (count * 4) // 3
    size |= 1
    while not _is_prime(size):
        size += 2
    return max(size, 3)


def mo_entries(messages: Iterable[Message]) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs as msgfmt stores them: sorted by key, without untranslated entries.

    Like msgfmt, an entry counts as untranslated when its (first) msgstr is empty, and fuzzy
    entries other than the header are left out.
    """
    chosen = []
    for msg in messages:
        if msg.obsolete or not msg.msgstr[0] or (msg.fuzzy and msg.msgid != ""):
            continue
        key = msg.msgid if msg.msgid_plural is None else f"{msg.msgid}\0{msg.msgid_plural}"
        if msg.msgctxt is not None:
            key = f"{msg.msgctxt}\x04{key}"
        chosen.append((key.encode(), "\0".join(msg.msgstr).encode()))
    return sorted(chosen)


def mo_bytes(messages: Iterable[Message]) -> bytes:
    """A GNU .mo file (revision 0, little endian, with msgfmt's hash table)."""
    entries = mo_entries(messages)
    count = len(entries)
    size = hash_table_size(count)
    originals_at = 28
    translations_at = originals_at + 8 * count
    hash_at = translations_at + 8 * count
    strings_at = hash_at + 4 * size

    table = [0] * size
    for index, (key, _value) in enumerate(entries):
        hval = hash_string(key)
        idx = hval % size
        if table[idx]:
            incr = 1 + (hval % (size - 2))
            while table[idx]:
                idx = idx - (size - incr) if idx >= size - incr else idx + incr
        table[idx] = index + 1

    offsets, data = [], io.BytesIO()
    for strings in ([k for k, _v in entries], [v for _k, v in entries]):
        for text in strings:
            offsets.append((len(text), strings_at + data.tell()))
            data.write(text + b"\0")
    out = io.BytesIO()
    out.write(
        struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, size, hash_at)
    )
    for length, offset in offsets:
        out.write(struct.pack("<2I", length, offset))
    out.write(struct.pack(f"<{size}I", *table))
    out.write(data.getvalue())
    return out.getvalue()


def mo_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return po_path(language, locale_dir).with_suffix(".mo")


# --------------------------------------------------------------------------- commands


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def extract(locale_dir: Path = LOCALE_DIR, package: Path = PACKAGE) -> int:
    warnings: list[str] = []
    source = extract_messages(package, warnings)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for language in LANGUAGES:
        path = po_path(language, locale_dir)
        old = read_po(path) if path.exists() else []
        merged = merge(language, source, old)
        old_ids = {m.key for m in old if not m.obsolete and m.msgid}
        new_ids = {m.key for m in merged if m.msgid}
        changed = write_if_changed(path, format_po(merged).encode("utf-8"))
        todo = sum(1 for m in merged[1:] if not m.translated)
        print(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"{len(merged) - 1} messages, {len(new_ids - old_ids)} new, "
            f"{len(old_ids - new_ids)} dropped, {todo} untranslated"
            + ("" if changed else " (unchanged)")
        )
    return 0


def js_po_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{JS_DOMAIN}.po"


def compile_catalogs(locale_dir: Path = LOCALE_DIR) -> int:
    for language in LANGUAGES:
        js = js_po_path(language, locale_dir)
        if js.exists():
            changed = write_if_changed(js.with_suffix(".mo"), mo_bytes(read_po(js)))
            shown = js.relative_to(ROOT) if js.is_relative_to(ROOT) else js
            print(f"{shown.with_suffix('.mo')}: " + ("written" if changed else "up to date"))
        path = po_path(language, locale_dir)
        if not path.exists():
            print(f"error: {path} does not exist; run extract first", file=sys.stderr)
            return 1
        target = mo_path(language, locale_dir)
        changed = write_if_changed(target, mo_bytes(read_po(path)))
        print(
            f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
            + ("written" if changed else "up to date")
        )
    return 0


def _placeholders(text: str) -> tuple[list[str], set[str]]:
    pct = sorted(
        (m.group("name") or "") + m.group("conv")
        for m in PY_FORMAT_RE.finditer(text)
        if m.group("conv") != "%"
    )
    brace = {
        m.group("field") for m in BRACE_FORMAT_RE.finditer(text) if m.group("field") is not None
    }
    return pct, brace


def placeholder_problems(msg: Message) -> list[str]:
    problems = []
    src_pct, src_brace = _placeholders(msg.msgid)
    if msg.msgid_plural is not None:
        pl_pct, pl_brace = _placeholders(msg.msgid_plural)
        allowed_pct, allowed_brace = set(src_pct) | set(pl_pct), src_brace | pl_brace
    for i, text in enumerate(msg.msgstr):
        if not text:
            continue
        pct, brace = _placeholders(text)
        if msg.msgid_plural is None:
            bad = ("python-format" in msg.flags and pct != src_pct) or (
                "python-brace-format" in msg.flags and brace != src_brace
            )
        else:
            bad = ("python-format" in msg.flags and not set(pct) <= allowed_pct) or (
                "python-brace-format" in msg.flags and not brace <= allowed_brace
            )
        if bad:
            problems.append(f"placeholders of msgstr[{i}] {text!r} do not match the msgid")
    return problems


def check(locale_dir: Path = LOCALE_DIR, package: Path = PACKAGE) -> list[str]:
    """Everything that is wrong with the catalogs; an empty list means all is well."""
    problems: list[str] = []
    source = extract_messages(package)
    for language in LANGUAGES:
        path = po_path(language, locale_dir)
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        if not path.exists():
            problems.append(f"{shown}: missing; run `tools/i18n.py extract`")
            continue
        try:
            catalog = read_po(path)
        except (POError, UnicodeDecodeError) as exc:
            problems.append(f"{shown}: {exc}")
            continue
        by_key = {m.key: m for m in catalog if not m.obsolete}
        header = by_key.get((None, ""))
        info = parse_header(header.msgstr[0]) if header else {}
        if info.get("Plural-Forms") != PLURAL_FORMS[language]:
            problems.append(f"{shown}: Plural-Forms must be {PLURAL_FORMS[language]!r}")
        if "charset=UTF-8" not in info.get("Content-Type", ""):
            problems.append(f"{shown}: Content-Type must declare charset=UTF-8")
        n = nplurals(PLURAL_FORMS[language])
        for src in source:
            msg = by_key.get(src.key)
            if msg is None:
                problems.append(f"{shown}: missing {src.label()} (run extract)")
                continue
            if (msg.msgid_plural is None) != (src.msgid_plural is None):
                problems.append(f"{shown}: {src.label()} singular/plural differs from the source")
                continue
            if msg.msgid_plural is not None and len(msg.msgstr) != n:
                problems.append(f"{shown}: {src.label()} needs {n} plural forms")
            if any(msg.msgstr) and not all(msg.msgstr):
                problems.append(f"{shown}: {src.label()} has empty plural forms")
            elif language in REQUIRED_LANGUAGES and not msg.translated:
                state = "fuzzy" if msg.fuzzy else "untranslated"
                problems.append(f"{shown}: {state} {src.label()}")
            for problem in placeholder_problems(msg):
                problems.append(f"{shown}: {src.label()}: {problem}")
        js = js_po_path(language, locale_dir)
        if js.exists():
            js_shown = js.relative_to(ROOT) if js.is_relative_to(ROOT) else js
            try:
                js_catalog = read_po(js)
            except (POError, UnicodeDecodeError) as exc:
                problems.append(f"{js_shown}: {exc}")
            else:
                js_mo = js.with_suffix(".mo")
                for msg in js_catalog[1:]:
                    if not msg.translated:
                        problems.append(f"{js_shown}: untranslated {msg.label()}")
                if not js_mo.exists() or js_mo.read_bytes() != mo_bytes(js_catalog):
                    problems.append(f"{js_shown}: its .mo is missing or stale; run compile")
        mo = mo_path(language, locale_dir)
        mo_shown = mo.relative_to(ROOT) if mo.is_relative_to(ROOT) else mo
        if not mo.exists():
            problems.append(f"{mo_shown}: missing; run `tools/i18n.py compile`")
        elif mo.read_bytes() != mo_bytes(catalog):
            older = " and older than the .po" if mo.stat().st_mtime < path.stat().st_mtime else ""
            problems.append(f"{mo_shown}: differs from its .po{older}; run `tools/i18n.py compile`")
    return problems


def obsolete_messages(locale_dir: Path = LOCALE_DIR, package: Path = PACKAGE) -> Iterator[str]:
    keys = {m.key for m in extract_messages(package)} | {(None, "")}
    for language in LANGUAGES:
        path = po_path(language, locale_dir)
        if path.exists():
            for msg in read_po(path):
                if msg.key not in keys and not msg.obsolete:
                    yield f"{language}: {msg.label()} is no longer in the source"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["extract", "compile", "check"])
    args = parser.parse_args(argv)
    if args.command == "extract":
        return extract()
    if args.command == "compile":
        return compile_catalogs()
    problems = check()
    for note in obsolete_messages():
        print(f"note: {note} (run extract to drop it)", file=sys.stderr)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("translations OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
