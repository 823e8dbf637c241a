"""CUDA use in a body: calls that need a GPU, devices, code that adapts, device-name checks (MGL302)."""

from __future__ import annotations

import re

import libcst as cst

from modal_gpu_lint.analysis.body.base import ReaderBase
from modal_gpu_lint.analysis.body.facts import Use
from modal_gpu_lint.analysis.body.tree import keyword_arg, positional_arg, walk_expr
from modal_gpu_lint.analysis.resolve import Assigned, Defined

# torch.cuda calls that initialise CUDA and raise when no GPU is visible. Not listed on purpose:
# is_available/device_count (they are how code adapts), manual_seed*/empty_cache/memory_allocated
# (silently do nothing without CUDA), Event (created lazily).
SURE_CUDA = frozenset(
    f"torch.cuda.{name}"
    for name in (
        "synchronize",
        "get_device_name",
        "get_device_properties",
        "get_device_capability",
        "mem_get_info",
        "set_device",
        "current_device",
        "CUDAGraph",
    )
)


_ADAPTIVE = frozenset({"torch.cuda.is_available", "torch.cuda.device_count", "torch.cuda.is_initialized"})


_ADAPTIVE_ATTRS = frozenset(name.rsplit(".", 1)[1] for name in _ADAPTIVE)


# Constructors of configuration objects: a `device="cuda"` there may be meant for another process.
_CONFIG_NAME = re.compile(r"(?:config|args|arguments|settings|options|params|spec|dict)$", re.IGNORECASE)


_DEVICE_KEYWORDS = ("device", "device_map", "map_location")


BENCHMARKS = frozenset(
    {
        "triton.testing.do_bench",
        "triton.testing.do_bench_cudagraph",
        "torch.utils.benchmark.Timer",
        "torch.utils.benchmark.utils.timer.Timer",
    }
)


_DEVICE_NAME_CALL = "torch.cuda.get_device_name"


_DEVICE_PROPERTIES_CALL = "torch.cuda.get_device_properties"


_STRING_TESTS = frozenset({"startswith", "endswith", "find", "index", "count"})


_REGEX_CALLS = frozenset({"re.search", "re.match", "re.fullmatch", "re.findall"})


class CudaReader(ReaderBase):
    """Where the body surely needs CUDA, and where it checks which GPU it got."""

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if not self.pins:
            return
        operands = [node.left, *(c.comparator for c in node.comparisons)]
        if not any(self.mentions_device_name(o) for o in operands):
            return
        strings = [s for o in operands for s in self.strings_in(o)]
        self._device_name_check(node, strings)

    def _device_name_check(self, node: cst.CSTNode, strings: list[str]) -> None:
        self.name_tests.append((node, [s.upper() for s in strings]))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in _ADAPTIVE_ATTRS and self.qualify(node) in _ADAPTIVE:
            self.facts.adaptive.append(Use(node, self.short(node)))

    def _cuda_call(self, node: cst.Call, attr: str | None, name: str | None) -> None:
        if attr == "cuda" and name is None:
            self.facts.cuda.append(Use(node, self.method_text(node)))
            self._moved(node)
            return
        if attr == "to":
            device = keyword_arg(node, "device")
            first = device.value if device is not None else (positional_arg(node, 0))
            if first is not None and self.is_cuda(first):
                self.facts.cuda.append(Use(node, self.method_text(node)))
                self._moved(node)
            return
        callee = name or attr or (node.func.value if isinstance(node.func, cst.Name) else "")
        if _CONFIG_NAME.search(callee.rsplit(".", 1)[-1]) or self.is_own_code(node.func):
            return
        for keyword in _DEVICE_KEYWORDS:
            arg = keyword_arg(node, keyword)
            if arg is not None and self.is_cuda(arg.value):
                self.facts.cuda.append(Use(arg, f"{keyword}={self.short(arg.value)}"))

    def is_own_code(self, func: cst.BaseExpression) -> bool:
        """A function or class of this module, or a method called on `self` / `cls`: code we do not
        read, which may fall back to the CPU by itself."""
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
            return True
        if isinstance(func, cst.Name):
            found = self.resolver.bindings(func.value, self.here)
            return bool(found) and all(isinstance(b, Defined) for b in found)
        return False

    def _moved(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            receiver = func.value
            if isinstance(receiver, cst.Call):
                self.moved_calls.add(id(receiver))
            elif isinstance(receiver, (cst.Name, cst.Attribute)):
                self.moved.add(self.code(receiver))

    def _string_test(self, node: cst.Call, func: cst.Attribute, attr: str, name: str | None) -> None:
        if attr in _STRING_TESTS and self.mentions_device_name(func.value):
            strings = [s for a in node.args for s in self.strings_in(a.value)]
            self._device_name_check(node, strings)
        elif name in _REGEX_CALLS and len(node.args) >= 2 and self.mentions_device_name(node.args[1].value):
            self._device_name_check(node, self.strings_in(node.args[0].value))

    def mentions_device_name(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """Whether `expr` contains the GPU's name: get_device_name(), get_device_properties().name."""
        if depth > 4:
            return False
        for node in walk_expr(expr):
            if isinstance(node, cst.Call) and self.qualify(node.func) == _DEVICE_NAME_CALL:
                return True
            if (
                isinstance(node, cst.Attribute)
                and node.attr.value == "name"
                and isinstance(node.value, cst.Call)
                and self.qualify(node.value.func) == _DEVICE_PROPERTIES_CALL
            ):
                return True
            if isinstance(node, cst.Name):
                found, where = self.resolver.lookup(node.value, self.here)
                local = len(where) > self.base_depth  # a local of the target
                if local and len(found) == 1 and isinstance(found[0], Assigned) and found[0].value is not None:
                    saved = self.scopes
                    self.scopes = list(where)
                    try:
                        if self.mentions_device_name(found[0].value, depth + 1):
                            return True
                    finally:
                        self.scopes = saved
        return False

    def strings_in(self, expr: cst.BaseExpression) -> list[str]:
        """Every string constant in `expr` (literals and names of string constants)."""
        out: list[str] = []
        for node in walk_expr(expr):
            if isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString, cst.Name)):
                out.extend(v for v in self.values(node) if isinstance(v, str))
        return out
