"""What a Modal function's body (or a Modal class's methods) does with GPUs, read from the source.

One pass over the decorated def or class (all its methods) collects:
- sure CUDA uses (calls that raise without a GPU), and "adaptive" code that checks for one;
- parallelism settings (`tensor_parallel_size=`, `torchrun --nproc-per-node`, `vllm serve -tp`...);
- model loads (vLLM, SGLang, transformers, diffusers) with their id and precision hints;
- hardware-dependence signals for MGL302: device-name checks and benchmarks.

Values go through the resolver with the function's own scopes; anything not known stays out.
"""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst

from modal_gpu_lint.analysis.body.cuda import BENCHMARKS, SURE_CUDA, CudaReader
from modal_gpu_lint.analysis.body.facts import BodyFacts, ModelLoad, Parallelism, Target, Use
from modal_gpu_lint.analysis.body.launch import (
    ARGV_CALLS,
    EXEC_CALLS,
    LAUNCH_CONFIGS,
    SHELL_CALLS,
    TORCHRUN_CALLS,
    LaunchReader,
)
from modal_gpu_lint.analysis.body.loading import ModelReader
from modal_gpu_lint.analysis.body.tree import keyword_arg, positional_arg
from modal_gpu_lint.analysis.resolve import Resolver, Scope, module_scope

__all__ = ["BodyFacts", "ModelLoad", "Parallelism", "Target", "Use", "read_body"]

# Calls that run a Modal function elsewhere: their arguments describe that function, not this one.
INVOCATIONS = frozenset(
    {"remote", "remote_gen", "spawn", "spawn_map", "map", "starmap", "for_each", "local", "aio", "with_options"}
)


MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "reverse", "sort", "__setitem__"})


def read_body(
    target: Target, resolver: Resolver, scopes: tuple[Scope, ...], pins: Mapping[str, str] | None = None
) -> BodyFacts:
    """Read `target` (a decorated def or class), whose decorator is evaluated in `scopes`.

    `pins` maps the GPU names whose device-name checks count for MGL302 to the name of the GPU
    Modal may run them on instead ({"H100": "H200"}): code that also accepts the latter is fine.
    """
    reader = BodyReader(resolver, scopes, {k.upper(): v.upper() for k, v in (pins or {}).items()})
    if isinstance(target, cst.FunctionDef):
        reader.enter_function(target)
        reader.walk(target.body)
        reader.leave_function()
    else:
        statements = [
            s for s in target.body.body if isinstance(s, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
        ]
        class_scope = module_scope(cst.Module(body=statements))
        class_scope.owner = target
        reader.class_scopes.add(id(class_scope))
        reader.scopes.append(class_scope)
        reader.walk(target.body)
    reader.finish()
    return reader.facts


class BodyReader(CudaReader, ModelReader, LaunchReader):
    """One pass over a target: the parts' visits, dispatched from each call."""

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        attr = func.attr.value if isinstance(func, cst.Attribute) else None
        if attr in MUTATORS and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            if attr in ("append", "extend") and len(node.args) == 1 and not node.args[0].star:
                self.grow(func.value.value, node.args[0].value, one=attr == "append", augmented=False)
            else:
                self.mutated.add(func.value.value)
        if attr in INVOCATIONS:
            return
        name = self.qualify(func)
        if attr == "elapsed_time":
            self.elapsed = True
        if name is not None:
            self._named_call(node, name)
        self._cuda_call(node, attr, name)
        self._parallel_keywords(node)
        if attr == "from_pretrained" and isinstance(func, cst.Attribute):
            self._from_pretrained(node, func)
        if self.pins and attr is not None and isinstance(func, cst.Attribute):
            self._string_test(node, func, attr, name)

    def _named_call(self, node: cst.Call, name: str) -> None:
        if name in SURE_CUDA:
            self.facts.cuda.append(Use(node, self.short(node)))
        if name in BENCHMARKS:
            self.facts.benchmarks.append(Use(node, f"benchmarks with {name.rsplit('.', 1)[1]}(...)"))
        elif name == "torch.cuda.Event":
            timing = keyword_arg(node, "enable_timing")
            if timing is not None and self.is_true(timing.value):
                self.timed_events.append(Use(node, self.short(node)))
        elif name == "torch.device":
            first = positional_arg(node, 0)
            if first is not None and self.is_cuda(first):
                self.facts.cuda.append(Use(node, self.short(node)))
        elif name in LAUNCH_CONFIGS:
            self.launch_config(node)
        elif name in ARGV_CALLS or name in SHELL_CALLS or name in EXEC_CALLS or name in TORCHRUN_CALLS:
            self.seq += 1
            self.commands.append((node, name, list(self.scopes), self.seq))  # read at the end, see finish()
        elif name == "transformers.pipeline":
            self._pipeline(node)
        else:
            self._engine(node, name)

    def finish(self) -> None:
        saved = self.scopes
        for call, name, scopes, seq in self.commands:  # now that every in-place change is known
            self.scopes = scopes
            self.current_seq = seq
            self._command(call, name)
        self.scopes = saved
        for pending in self.pending:
            placed = (
                pending.placed
                or id(pending.call) in self.moved_calls
                or (pending.target is not None and pending.target in self.moved)
            )
            if placed:
                self.facts.models.append(pending.load)
        for pin, upgrade in self.pins.items():
            tested = [node for node, strings in self.name_tests if any(pin in s for s in strings)]
            accepts_upgrade = any(upgrade in s for _, strings in self.name_tests for s in strings)
            if tested and not accepts_upgrade:
                node = tested[0]
                self.facts.device_name_checks.append(Use(node, f"checks the device name ({self.short(node)})"))
        if self.timed_events and self.elapsed and self.loops:
            event = self.timed_events[0]
            self.facts.benchmarks.append(Use(event.node, f"times GPU work with CUDA events ({event.text})"))
