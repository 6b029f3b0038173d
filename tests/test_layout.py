"""The layout keeps its promises: hand-written SQL lives only in an app's `sql.py` and in
`hotsql.py`, and no app splices another app's statement into its own."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "kopilka"

SQL_CALLS = {"execute", "executemany", "cursor", "chunked_cursor", "raw"}
SQL_WORDS = ("SELECT ", "UPDATE ", "INSERT INTO", "DELETE FROM", "WITH ")


def runs_sql(path: Path) -> bool:
    """Whether a module calls a database cursor / hotsql.rows, or holds a statement's text."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            hotsql_rows = node.func.attr == "rows" and _named(node.func.value, "hotsql")
            if node.func.attr in SQL_CALLS or hotsql_rows:
                return True
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and text.lstrip().startswith(SQL_WORDS):  # upper case: ours
            return True
    return False


def _named(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def modules():
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if "/migrations/" in relative or relative.endswith("sql.py"):
            continue
        yield relative, path


def test_hand_written_sql_lives_only_in_sql_modules():
    assert [relative for relative, path in modules() if runs_sql(path)] == []


def test_no_sql_module_imports_another_apps_statements():
    for path in sorted(SRC.rglob("sql.py")):
        app = path.parent.name
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
                if module.endswith(".sql") or module == "sql":
                    assert module.split(".")[-2:-1] in ([], [app]), f"{path}: {module}"


DOMAIN = ("ledger", "customers", "programs", "catalog", "merchants", "reports", "sales", "limits")
FACES = ("pos", "cashier", "backoffice")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    tree = ast.parse(path.read_text(), str(path))
    package = "kopilka." + ".".join(path.relative_to(SRC).parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_the_domain_never_imports_a_face():
    """The POS API, the cashier screen and the back office sit on the domain apps, never the
    other way round."""
    reaching_up = {}
    for app in DOMAIN:
        for path in sorted((SRC / app).rglob("*.py")):
            faces = {
                module
                for module in imported_modules(path)
                if module.split(".")[:2] in (["kopilka", face] for face in FACES)
            }
            if faces:
                reaching_up[path.relative_to(SRC).as_posix()] = sorted(faces)
    assert reaching_up == {}
