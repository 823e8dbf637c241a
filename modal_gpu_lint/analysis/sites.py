"""Find every Modal call in a module: one pass of a libcst visitor over a parsed module."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from modal_gpu_lint.analysis.positions import LineIndex, node_spans
from modal_gpu_lint.analysis.resolve import (
    Assigned,
    Defined,
    Resolver,
    Scope,
    class_scope,
    comprehension_scope,
    forget_scopes,
    function_scope,
    method_scope,
    module_scope,
)
from modal_gpu_lint.analysis.value_ops import AttributeTargets, mutated_names, names_in, returned_values
from modal_gpu_lint.analysis.values import Value
from modal_gpu_lint.analysis.walk import visit  # libcst's own `node.visit` rebuilds every node it passes
from modal_gpu_lint.facts.modal_api import APP_CALLS, IMAGE_CALLS, SANDBOX_CREATE, WITH_OPTIONS, ModalCall

Target = cst.FunctionDef | cst.ClassDef


@dataclass(eq=False)
class Site:
    """One Modal call that takes `gpu=`, with its arguments and what it decorates."""

    api: ModalCall
    expr: cst.BaseExpression  # the call, or the bare decorator expression `app.function`
    call: cst.Call | None
    keywords: dict[str, cst.Arg]
    star_kwargs: bool  # a `**kwargs` splat: absent keywords may be given there
    decorator: cst.Decorator | None = None
    target: Target | None = None
    scopes: tuple[Scope, ...] = ()

    def arg(self, name: str) -> cst.Arg | None:
        """The keyword argument `name`, if written."""
        return self.keywords.get(name)


@dataclass(eq=False)
class Event:
    """A use of a removed or special Modal API that is not a `gpu=` call site."""

    # "gpu-object" (a call, or the bare class `modal.gpu.H100`), "gpu-import", "stub-call", "stub-import",
    # "web-endpoint", "web-endpoint-import"
    kind: str
    node: cst.CSTNode  # what to report
    parent: cst.CSTNode | None = None  # the import statement, or the decorator
    scopes: tuple[Scope, ...] = ()


@dataclass
class ModuleFacts:
    """Everything the rules read about one module."""

    module: cst.Module
    resolver: Resolver
    sites: list[Site] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # keywords read from a `**{...}` splat are Args made here; findings on them are reported at the
    # splat of the call (id of the made Arg -> the `**` argument)
    stand_ins: dict[int, cst.CSTNode] = field(default_factory=dict)
    made: set[int] = field(default_factory=set)  # ids of those Args and their keywords: no fix may edit them
    text: str | None = None  # the module's source text, when the caller has it (else generated from the tree)
    _lines: LineIndex | None = None

    def evaluate(self, expr: cst.BaseExpression, site_scopes: tuple[Scope, ...]) -> list[Value]:
        """Every value an argument may take."""
        return self.resolver.evaluate(expr, site_scopes)

    def lines(self) -> LineIndex:
        """The module's line index, made once (from its source text: generating it costs a walk)."""
        if self._lines is None:
            self._lines = LineIndex(self.text if self.text is not None else self.module.code)
        return self._lines

    def line_of(self, node: cst.CSTNode) -> int | None:
        """The 1-based line where `node` starts (for messages; costs a walk of the module up to it)."""
        span = node_spans(self.module, [node], self.lines()).get(id(node))
        return span.row if span is not None else None


_MODAL_GPU_PREFIX = "modal.gpu."


class _SiteFinder(AttributeTargets):
    def __init__(self, facts: ModuleFacts) -> None:
        super().__init__()
        self.facts = facts
        self.resolver = facts.resolver
        self.scopes: list[Scope] = []
        self.decorated: dict[int, tuple[cst.Decorator, Target]] = {}
        self.called: set[int] = set()  # the `func` of every call seen (not a bare class use)

    # ---- scopes ---------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._note_decorators(node)

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        owner = self.scopes[-1].owner if self.scopes and self.scopes[-1].is_class else None
        self.scopes.append(method_scope(node, owner))

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._note_decorators(node)

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        self.scopes.append(class_scope(node))

    def leave_ClassDef_body(self, node: cst.ClassDef) -> None:
        self.scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.scopes.append(function_scope(node))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()

    def _enter_comp(self, node: cst.BaseComp) -> None:
        self.scopes.append(comprehension_scope(node))

    def _leave_comp(self) -> None:
        self.scopes.pop()

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._enter_comp(node)

    def leave_ListComp(self, original_node: cst.ListComp) -> None:
        self._leave_comp()

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._enter_comp(node)

    def leave_SetComp(self, original_node: cst.SetComp) -> None:
        self._leave_comp()

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._enter_comp(node)

    def leave_DictComp(self, original_node: cst.DictComp) -> None:
        self._leave_comp()

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._enter_comp(node)

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp) -> None:
        self._leave_comp()

    # ---- decorators -----------------------------------------------------------------------
    def _note_decorators(self, node: Target) -> None:
        scopes = tuple(self.scopes)
        for decorator in node.decorators:
            expr = decorator.decorator
            self.decorated[id(expr)] = (decorator, node)
            if isinstance(expr, (cst.Attribute, cst.Name)):
                # a bare `@app.function` or `@modal.web_endpoint`
                self._check_bare_decorator(expr, decorator, node, scopes)

    def _check_bare_decorator(
        self, expr: cst.Attribute | cst.Name, decorator: cst.Decorator, node: Target, scopes: tuple[Scope, ...]
    ) -> None:
        if (
            isinstance(expr, cst.Attribute)
            and expr.attr.value in APP_CALLS
            and self.resolver.is_app(expr.value, scopes)
        ):
            self.facts.sites.append(Site(APP_CALLS[expr.attr.value], expr, None, {}, False, decorator, node, scopes))
        elif self.resolver.is_modal(expr, scopes, "modal.web_endpoint"):
            self.facts.events.append(Event("web-endpoint", expr, decorator, scopes))

    # ---- imports --------------------------------------------------------------------------
    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        module = cst.helpers.get_full_name_for_node(node.module)
        if module == "modal.gpu":  # `from modal.gpu import H100`: every name of it is gone
            for alias in node.names:
                self.facts.events.append(Event("gpu-import", alias, node, tuple(self.scopes)))
            return
        if module != "modal":
            return
        kinds = {"gpu": "gpu-import", "Stub": "stub-import", "web_endpoint": "web-endpoint-import"}
        for alias in node.names:
            name = alias.name.value if isinstance(alias.name, cst.Name) else None
            if name in kinds:
                self.facts.events.append(Event(kinds[name], alias, node, tuple(self.scopes)))

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if cst.helpers.get_full_name_for_node(alias.name) == "modal.gpu":  # `import modal.gpu`
                self.facts.events.append(Event("gpu-import", alias, node, tuple(self.scopes)))

    # ---- calls ----------------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        """The bare class `modal.gpu.H100` (`gpu=modal.gpu.H100`), not called."""
        value = node.value
        if id(node) in self.called or not (
            isinstance(value, cst.Name) or (isinstance(value, cst.Attribute) and value.attr.value == "gpu")
        ):
            return
        scopes = tuple(self.scopes)
        name = self.resolver.qualify(node, scopes)
        if name is not None and name.startswith(_MODAL_GPU_PREFIX) and name.count(".") == 2:
            self.facts.events.append(Event("gpu-object", node, None, scopes))

    def visit_Call(self, node: cst.Call) -> None:
        scopes = tuple(self.scopes)
        func = node.func
        self.called.add(id(func))
        self.note_setattr(node)
        api = self._modal_call(func, scopes)
        decorated = self.decorated.get(id(node))
        if api is not None:
            keywords: dict[str, cst.Arg] = {}
            star_kwargs = False
            for arg in node.args:
                if arg.star == "**":
                    splatted = self._splat(arg.value, scopes, 0)
                    if splatted is None:
                        star_kwargs = True
                        continue
                    for key, (_element, value) in splatted.items():
                        if key not in keywords:  # a keyword written in the call comes first
                            stand_in = cst.Arg(value=value, keyword=cst.Name(key))
                            self.facts.stand_ins[id(stand_in)] = arg  # reported at the `**` of the call
                            self.facts.made.update((id(stand_in), id(stand_in.keyword)))
                            keywords[key] = stand_in
                elif arg.keyword is not None:
                    keywords[arg.keyword.value] = arg
            decorator, target = decorated if decorated else (None, None)
            self.facts.sites.append(Site(api, node, node, keywords, star_kwargs, decorator, target, scopes))
            return
        name = self.resolver.qualify(func, scopes)
        if name is None:
            return
        if name.startswith(_MODAL_GPU_PREFIX) and name.count(".") == 2:
            self.facts.events.append(Event("gpu-object", node, None, scopes))
        elif name == "modal.Stub":
            self.facts.events.append(Event("stub-call", node, None, scopes))
        elif name == "modal.web_endpoint":
            self.facts.events.append(Event("web-endpoint", node, decorated[0] if decorated else None, scopes))

    def _splat(
        self, expr: cst.BaseExpression, scopes: tuple[Scope, ...], depth: int
    ) -> dict[str, tuple[cst.CSTNode, cst.BaseExpression]] | None:
        """The keywords a `**` splat gives, by name, with the source node that gives each and its value:
        a dict literal, `dict(k=v)`, a name bound once to one, or a call of a parameterless helper of
        this module that returns one. None when not sure (every keyword may then come from it)."""
        if depth > 8:
            return None
        if isinstance(expr, cst.Dict):
            out: dict[str, tuple[cst.CSTNode, cst.BaseExpression]] = {}
            for element in expr.elements:
                if isinstance(element, cst.StarredDictElement):
                    inner = self._splat(element.value, scopes, depth + 1)
                    if inner is None:
                        return None
                    out.update(inner)
                    continue
                assert isinstance(element, cst.DictElement)
                key = element.key
                if not isinstance(key, cst.SimpleString) or not isinstance(key.evaluated_value, str):
                    return None
                out[key.evaluated_value] = (element, element.value)
            return out
        if isinstance(expr, cst.Call):
            if isinstance(expr.func, cst.Name) and expr.func.value == "dict":
                if self.resolver.bindings("dict", scopes):
                    return None
                return self._dict_call(expr, scopes, depth)
            return self._helper_dict(expr, scopes, depth)
        if isinstance(expr, cst.Name):
            found, where = self.resolver.lookup(expr.value, scopes)
            if len(found) != 1 or not isinstance(found[0], Assigned) or found[0].value is None:
                return None
            if where != scopes[: len(where)] or expr.value in mutated_names(self.facts.module):
                return None  # bound in another scope stack, or changed in place (`CONFIG["gpu"] = ...`)
            return self._splat(found[0].value, scopes, depth + 1)
        return None

    def _dict_call(
        self, expr: cst.Call, scopes: tuple[Scope, ...], depth: int
    ) -> dict[str, tuple[cst.CSTNode, cst.BaseExpression]] | None:
        out: dict[str, tuple[cst.CSTNode, cst.BaseExpression]] = {}
        for arg in expr.args:
            if arg.star == "**":
                inner = self._splat(arg.value, scopes, depth + 1)
                if inner is None:
                    return None
                out.update(inner)
            elif arg.keyword is None:
                return None  # `dict(BASE, gpu=...)`, `dict(pairs)`
            else:
                out[arg.keyword.value] = (arg, arg.value)
        return out

    def _helper_dict(
        self, expr: cst.Call, scopes: tuple[Scope, ...], depth: int
    ) -> dict[str, tuple[cst.CSTNode, cst.BaseExpression]] | None:
        """`**gpu_kwargs()`: a helper without parameters whose one `return` gives a dict literal that
        names none of its locals (its values then mean the same at the call)."""
        if expr.args or not isinstance(expr.func, cst.Name):
            return None
        found, where = self.resolver.lookup(expr.func.value, scopes)
        if len(found) != 1 or not isinstance(found[0], Defined) or not isinstance(found[0].node, cst.FunctionDef):
            return None
        helper = found[0].node
        params = helper.params
        if where != scopes[: len(where)] or any(
            (params.params, params.posonly_params, params.kwonly_params, isinstance(params.star_arg, cst.Param))
        ):
            return None  # (a `**kwargs` parameter cannot be passed: the call has no arguments)
        returns = returned_values(helper)
        if len(returns) != 1 or not isinstance(returns[0], (cst.Dict, cst.Call)):
            return None
        local = function_scope(helper).bindings
        if any(isinstance(n, cst.Name) and n.value in local for n in names_in(returns[0])):
            return None
        return self._splat(returns[0], scopes, depth + 1)

    def _modal_call(self, func: cst.BaseExpression, scopes: tuple[Scope, ...]) -> ModalCall | None:
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        receiver = func.value
        resolver = self.resolver
        if method in APP_CALLS:
            return APP_CALLS[method] if resolver.is_app(receiver, scopes) else None
        if method == "with_options":
            return WITH_OPTIONS if self._is_modal_function_or_cls(receiver, scopes) else None
        if method in ("create", "aio"):
            return SANDBOX_CREATE if resolver.qualify(func, scopes) in _SANDBOX_CREATE else None
        if method in IMAGE_CALLS:
            if resolver.qualify(func, scopes) in (f"modal.Image.{method}", f"modal.image.Image.{method}"):
                return IMAGE_CALLS[method]
            return IMAGE_CALLS[method] if self._is_image(receiver, scopes) else None
        return None

    def _is_modal_function_or_cls(self, expr: cst.BaseExpression, scopes: tuple[Scope, ...]) -> bool:
        resolver = self.resolver
        if isinstance(expr, cst.Call):
            name = resolver.qualify(expr.func, scopes)
            if name in _REMOTE_LOOKUPS:
                return True
            # `app.function(...)(fn)` returns a Modal Function
            inner = expr.func
            return (
                isinstance(inner, cst.Call)
                and isinstance(inner.func, cst.Attribute)
                and inner.func.attr.value in ("function", "cls")
                and resolver.is_app(inner.func.value, scopes)
            )
        if not isinstance(expr, cst.Name):
            return False
        found, scopes = resolver.lookup(expr.value, scopes)
        if len(found) != 1:
            return False
        binding = found[0]
        if isinstance(binding, Defined):
            kind = "cls" if isinstance(binding.node, cst.ClassDef) else "function"
            return resolver.decorated_by_app(binding.node, kind, scopes)
        if isinstance(binding, Assigned) and isinstance(binding.value, cst.Call):
            return self._is_modal_function_or_cls(binding.value, scopes)
        return False

    def _is_image(self, expr: cst.BaseExpression, scopes: tuple[Scope, ...]) -> bool:
        """Whether `expr` is a `modal.Image` (a build chain, or a name every binding of which is one)."""
        return self._image_state(expr, scopes, 0, frozenset()) is True

    def _image_state(
        self, expr: cst.BaseExpression, scopes: tuple[Scope, ...], depth: int, seen: frozenset[str]
    ) -> bool | None:
        """True/False, or None for a name already being followed (`image = image.pip_install(...)`)."""
        if depth > 64:
            return False
        if isinstance(expr, cst.Call):
            return self._image_state(expr.func, scopes, depth + 1, seen)
        if isinstance(expr, cst.Attribute):
            if self.resolver.qualify(expr, scopes) in _IMAGE_CLASS:
                return True
            return self._image_state(expr.value, scopes, depth + 1, seen)
        if not isinstance(expr, cst.Name):
            return False
        if self.resolver.qualify(expr, scopes) in _IMAGE_CLASS:
            return True
        if expr.value in seen:
            return None
        found, where = self.resolver.lookup(expr.value, scopes)
        values = [b.value for b in found if isinstance(b, Assigned) and b.value is not None]
        if not found or len(values) != len(found):
            return False
        states = [self._image_state(value, where, depth + 1, seen | {expr.value}) for value in values]
        if any(state is False for state in states):
            return False
        return True if any(states) else None


_IMAGE_CLASS = ("modal.Image", "modal.image.Image")
_SANDBOX_CREATE = {"modal.Sandbox.create", "modal.Sandbox.create.aio"}
_REMOTE_LOOKUPS = {
    "modal.Cls.from_name",
    "modal.Cls.lookup",
    "modal.Function.from_name",
    "modal.Function.lookup",
}


def find_sites(module: cst.Module, path: str | None = None, text: str | None = None) -> ModuleFacts:
    """Parse-tree in, Modal call sites and removed-API events out. With the file's `path`, constants
    imported from the project's own modules are followed; `text` is the source `module` was parsed
    from (`module.code`), when the caller has it."""
    forget_scopes()  # the last module's; this one's are remembered until the next
    facts = ModuleFacts(module, Resolver(module_scope(module), module, path), text=text)
    finder = _SiteFinder(facts)
    visit(module, finder)
    facts.resolver.assigned = finder.assigned_names  # collected in the same pass
    return facts
