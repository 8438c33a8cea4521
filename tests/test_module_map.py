"""The README's module map is the code's: every module is in it, and each imports only modules above it."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "pmtype"
#: The one import that reaches up, as the README says: the default model built on first use.
REACHES_UP = {("model", "training")}


def module_order() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Modules, lowest first", 1)[1].split("\n#", 1)[0]
    order = []
    for cell in re.findall(r"^\| ([^|]+) \|", section, flags=re.M):
        order += re.findall(r"`(\w+)\.py`", cell)
    return order


def pmtype_imports(path: Path) -> set[str]:
    """The pmtype modules ``path`` imports, at its top or inside a function (``__version__`` aside)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "pmtype":
            if node.module == "pmtype":
                found |= {a.name for a in node.names if (PACKAGE / f"{a.name}.py").exists()}
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("pmtype.")}
    return found


def test_every_module_is_in_the_map_once():
    order = module_order()
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert sorted(order) == modules


@pytest.mark.parametrize("module", sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__",
                                                                                                    "__main__")))
def test_a_module_imports_only_modules_above_it(module):
    order = module_order()
    place = order.index(module)
    above = set(order[:place])
    wrong = sorted(m for m in pmtype_imports(PACKAGE / f"{module}.py") - above if (module, m) not in REACHES_UP)
    assert wrong == [], f"{module}.py imports {wrong}, which the README's module map puts at or below it"


def test_the_map_finds_an_import_that_reaches_up(tmp_path):
    """The check itself: an import of a module lower in the map is found."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from pmtype.cli import app\n    from pmtype import tables\n")
    assert pmtype_imports(probe) == {"cli", "tables"}
