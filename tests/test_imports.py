"""The core's import graph: no cycles, and inference that never loads the training stack."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import textrec_core

PACKAGE = "textrec_core"
ROOT = Path(textrec_core.__file__).parent


def module_names() -> dict[str, Path]:
    """Every module of the core: dotted name -> file (a package by its ``__init__``)."""
    names = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:``, which never run."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    return [node for node in ast.walk(tree) if id(node) not in skipped]


def imports_of(path: Path, module: str, modules: dict[str, Path]) -> set[str]:
    """The core modules ``module`` imports anywhere in its file, inside functions too.

    ``from textrec_core.x import name`` is an edge to ``textrec_core.x.name`` when that is a
    module, else to ``textrec_core.x``. The implicit import of each parent package is left out.
    """
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {name for name in found if name in modules and name != module}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for successor in sorted(graph[node]):
            if state.get(successor) == 1:
                return stack[stack.index(successor):] + [successor]
            if successor not in state and (cycle := visit(successor)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def core_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def test_the_graph_sees_imports_inside_functions():
    graph = core_graph()
    assert "textrec_core.training" in graph["textrec_core.model"]  # TorchModel.fit imports the Trainer
    assert "textrec_core.experiment" in graph["textrec_core.cli"]  # main imports it when it trains


def test_find_cycle_reports_a_cycle_through_a_function_level_import():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_core_has_no_import_cycle():
    cycle = find_cycle(core_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


INFERENCE_SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[2])
import tiny_components
from textrec_core import load_predictor
predictor = load_predictor(sys.argv[1], tiny_components.table())
text, confidence = predictor.predict(np.zeros((28, 28), dtype=np.float32))
print(json.dumps({"text": text, "modules": sorted(sys.modules)}))
"""

TINY_COMPONENTS = '''
import torch
from textrec_core.components import ComponentRegister, Components
from textrec_core.model import TorchModel
from textrec_core.predictor import ImagePredictor


def tiny(shapes):
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, shapes.num_classes))


class TinyModel(TorchModel):
    predictor = "TinyPredictor"

    def decode(self, logits):
        conf, index = logits.softmax(dim=1).max(dim=1)
        return [(self.mapping[i], c) for i, c in zip(index.tolist(), conf.tolist())]


class TinyPredictor(ImagePredictor):
    def preprocess(self, image):
        return image


def table():
    components = Components()
    register = ComponentRegister(components, "tiny")
    register.network(tiny)
    register.model(TinyModel)
    register.predictor(TinyPredictor)
    return components
'''


def test_loading_a_predictor_and_predicting_import_no_training_stack(tmp_path):
    (tmp_path / "tiny_components.py").write_text(TINY_COMPONENTS, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        import tiny_components
    finally:
        sys.path.remove(str(tmp_path))
    from textrec_core import DataShapes
    from textrec_core.mapping import EMNIST_MAPPING
    from textrec_core.model import InferenceData

    shapes = DataShapes((28, 28), (), EMNIST_MAPPING)
    model = tiny_components.TinyModel(InferenceData(shapes), tiny_components.tiny(shapes))
    bundle = model.save(tmp_path / "bundle", model="TinyModel", network="tiny", network_args={}, model_args={})
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(INFERENCE_SCRIPT), str(bundle), str(tmp_path)],
                            capture_output=True, text=True, check=True)
    reading = json.loads(result.stdout.strip().splitlines()[-1])
    assert reading["text"] in EMNIST_MAPPING
    loaded = set(reading["modules"])
    assert "textrec_core.predictor" in loaded and "tiny_components" in loaded
    # torch itself imports tqdm's core; the progress bars textrec draws come from tqdm.auto
    training_stack = ("textrec_core.training", "textrec_core.experiment", "textrec_core.services.download",
                      "wandb", "matplotlib", "tqdm.auto")
    for heavy in training_stack:
        assert heavy not in loaded, f"inference imported {heavy}"


CONTRACTS = {"textrec_core.protocols", "textrec_core.mapping", "textrec_core.errors"}
INFERENCE = {"textrec_core.bundle", "textrec_core.predictor"}
TRAINING_SIDE = {"textrec_core.training", "textrec_core.experiment", "textrec_core.finetune", "textrec_core.reports",
                 "textrec_core.tracking", "textrec_core.cli"}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for successor in graph[todo.pop()] - seen:
            seen.add(successor)
            todo.append(successor)
    return seen


def test_the_layers_import_only_downwards():
    """docs/architecture.md's rules: contracts import each other only, services import contracts
    and services, inference never reaches the training side."""
    graph = core_graph()
    services = {name for name in graph if name.startswith("textrec_core.services.")}
    for name in CONTRACTS:
        assert graph[name] <= CONTRACTS, f"{name} imports {graph[name] - CONTRACTS}"
    for name in services:
        assert graph[name] <= CONTRACTS | services, f"{name} imports {graph[name] - CONTRACTS - services}"
    for name in INFERENCE:
        assert not _reachable(graph, name) & TRAINING_SIDE, f"{name} reaches {_reachable(graph, name) & TRAINING_SIDE}"
