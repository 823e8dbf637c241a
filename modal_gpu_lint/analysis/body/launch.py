"""Launch commands in a body: argv lists and shell strings run by subprocess/os.system, read for
torchrun, accelerate, vLLM and SGLang flags (parallel sizes, the served model and its precision)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from modal_gpu_lint.analysis.body.base import Growth, ReaderBase
from modal_gpu_lint.analysis.body.facts import ModelLoad, Parallelism, Use
from modal_gpu_lint.analysis.body.tree import keyword_arg
from modal_gpu_lint.analysis.resolve import Assigned
from modal_gpu_lint.facts.models import Precision, dtype_bytes, quantization_bytes

ARGV_CALLS = frozenset(
    {"subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call", "subprocess.check_output"}
)


SHELL_CALLS = frozenset({"os.system", "os.popen", "asyncio.create_subprocess_shell"})


EXEC_CALLS = frozenset({"asyncio.create_subprocess_exec"})


# torchrun run in-process, given its argv in code: `torch.distributed.run.main(["--nproc-per-node=8", ...])`.
TORCHRUN_CALLS = frozenset({"torch.distributed.run.main", "torch.distributed.run.parse_args"})


# `LaunchConfig(nproc_per_node=8, ...)` for `torch.distributed.launcher.api.elastic_launch`.
LAUNCH_CONFIGS = frozenset({"torch.distributed.launcher.api.LaunchConfig", "torch.distributed.launcher.LaunchConfig"})


_SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", ";;"})


@dataclass(frozen=True, eq=False)
class Token:
    text: str | None  # None when the source does not fix it
    node: cst.CSTNode


class LaunchReader(ReaderBase):
    """Commands, read at the end of the body (once every in-place change of an argv list is known)."""

    def _command(self, node: cst.Call, name: str) -> None:
        if name in TORCHRUN_CALLS:
            arg = keyword_arg(node, "args") or (node.args[0] if node.args and node.args[0].keyword is None else None)
            if arg is None or arg.star:
                return  # `main()` reads sys.argv
            argv = self.tokens(arg.value, arg.value, 0)
            if argv:
                self._segment([Token("torchrun", node), *argv])
            return
        if name in EXEC_CALLS:
            tokens: list[Token] | None = []
            for item in node.args:
                if item.keyword is not None:
                    continue
                if item.star:
                    tokens = None
                    break
                assert tokens is not None
                tokens.append(Token(self.token_text(item.value), item.value))
        else:
            arg = keyword_arg(node, "args") or (node.args[0] if node.args and node.args[0].keyword is None else None)
            if arg is None or arg.star:
                return
            tokens = self.tokens(arg.value, arg.value, 0)
        if tokens:
            for segment in _segments(tokens):
                self._segment(segment)

    def tokens(self, expr: cst.BaseExpression, report: cst.CSTNode, depth: int) -> list[Token] | None:
        """The argv an expression stands for: a list literal, a shell string, a join or split."""
        if depth > 8:
            return None
        if isinstance(expr, cst.List):
            out: list[Token] = []
            for element in expr.elements:
                if isinstance(element, cst.StarredElement):
                    return None  # a splat may add or override any flag
                out.append(Token(self.token_text(element.value), element.value))
            return out
        if isinstance(expr, cst.Name):
            if expr.value in self.mutated:
                return None  # changed in place in a way we do not follow (`cmd[1] = ...`, `cmd.insert(...)`)
            found, where = self.resolver.lookup(expr.value, self.here)
            growths = self.growths.get(expr.value, [])
            if growths:
                found = [b for b in found if not (isinstance(b, Assigned) and b.value is None)]
                if len(found) + sum(g.augmented for g in growths) != len(
                    self.resolver.lookup(expr.value, self.here)[0]
                ):
                    return None
            if len(found) != 1 or not isinstance(found[0], Assigned) or found[0].value is None:
                return None if growths else self._shell(expr, report)
            value = found[0].value
            inner = len(where) > self.base_depth  # bound inside the target: report where written
            saved = self.scopes
            self.scopes = list(where)
            try:
                result = self.tokens(value, value if inner else report, depth + 1)
            finally:
                self.scopes = saved
            if result is not None and not inner:
                result = [Token(t.text, report) for t in result]
            if result is not None and growths:
                result = self._grown(result, growths, isinstance(value, cst.List), depth)
            return result
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            method = expr.func.attr.value
            if method == "join" and len(expr.args) == 1 and self.known_str(expr.func.value) == [" "]:
                parts = self.tokens(expr.args[0].value, report, depth + 1)
                return None if parts is None else [piece for t in parts for piece in _resplit(t)]
            if method == "split" and not expr.args:
                return self._shell(expr.func.value, report, split_only=True)
            if self.qualify(expr.func) == "shlex.split" and len(expr.args) == 1:
                return self._shell(expr.args[0].value, report)
        return self._shell(expr, report)

    def _grown(self, tokens: list[Token], growths: list[Growth], is_list: bool, depth: int) -> list[Token] | None:
        """`tokens` with the in-place growths made before the command: `cmd += [...]`, `cmd.extend(...)`,
        `cmd.append(x)` (and `cmd += " --flag"` on a string). A conditional growth that adds only flags
        which cannot change the GPUs used or the model loaded (`--api-key KEY`) is left out; any other
        conditional growth, or one after the command, leaves the command unknown."""
        out = list(tokens)
        saved = self.scopes
        try:
            for growth in growths:
                if growth.seq > self.current_seq:
                    return None  # grown after the command runs (in a loop, it may run again)
                self.scopes = list(growth.scopes)
                if growth.one:
                    added: list[Token] | None = [Token(self.token_text(growth.items), growth.items)]
                elif is_list or not self._spaced(growth.items):
                    added = self.tokens(growth.items, growth.items, depth + 1) if is_list else None
                else:
                    added = self._shell(growth.items, growth.items)
                if added is None:
                    return None
                if growth.conditional:
                    if not _harmless(added):
                        return None
                    continue
                out.extend(added)
        finally:
            self.scopes = saved
        return out

    def _spaced(self, expr: cst.BaseExpression) -> bool:
        """Whether a string added to a command string starts with a space (else it joins the last word)."""
        text = self.template(expr)
        return text is not None and text[:1].isspace()

    def _shell(self, expr: cst.BaseExpression, report: cst.CSTNode, split_only: bool = False) -> list[Token] | None:
        text = self.template(expr)
        if text is None:
            return None
        try:
            if split_only:
                words = text.split()
            else:
                lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
                lexer.whitespace_split = True
                words = list(lexer)
        except ValueError:
            return None
        node = report
        return [Token(None if "\x00" in w else w, node) for w in words]

    def template(self, expr: cst.BaseExpression, depth: int = 0) -> str | None:
        """A string's text with unknown parts as "\\x00" (so known flags around them still count)."""
        if depth > 8:
            return None
        if isinstance(expr, cst.FormattedString):
            pieces: list[str] = []
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    pieces.append(part.value.replace("{{", "{").replace("}}", "}"))
                else:
                    assert isinstance(part, cst.FormattedStringExpression)
                    text = None if part.format_spec is not None else self.token_text(part.expression)
                    pieces.append(text if text is not None else "\x00")
            return "".join(pieces)
        if isinstance(expr, cst.Name):
            found, where = self.resolver.lookup(expr.value, self.here)
            if len(found) == 1 and isinstance(found[0], Assigned) and isinstance(found[0].value, cst.FormattedString):
                saved = self.scopes
                self.scopes = list(where)
                try:
                    return self.template(found[0].value, depth + 1)
                finally:
                    self.scopes = saved
        texts = self.known_str(expr)
        return texts[0] if texts is not None and len(texts) == 1 else None

    def token_text(self, expr: cst.BaseExpression) -> str | None:
        """One argv element: a string, a number, `str(N)`."""
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "str":
            if not self.resolver.bindings("str", self.here) and len(expr.args) == 1:
                return self.token_text(expr.args[0].value)
            return None
        values = self.values(expr)
        if len(values) != 1:
            return None
        value = values[0]
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return None

    def _segment(self, tokens: list[Token]) -> None:
        if not tokens:
            return
        first = tokens[0].text
        if first is not None and first.rsplit("/", 1)[-1] == "nvidia-smi":
            self.facts.cuda.append(Use(tokens[0].node, "runs nvidia-smi"))
        launcher = _launcher(tokens)
        if launcher is None:
            return
        kind, start = launcher
        runs_a_script = kind in ("torchrun", "accelerate")
        # for vLLM, `-q` is `--quantization` and takes a value; for the launchers it is `--quiet`
        flags = Flags(
            tokens[start:],
            stop_at_positional=runs_a_script,
            boolean=_BOOLEAN_FLAGS if runs_a_script else _SERVER_BOOLEAN,
        )
        if kind == "torchrun":
            self._flag_parallel(flags, ("--nproc-per-node", "--nproc_per_node"), "torchrun", per_container=True)
        elif kind == "accelerate":
            machines = flags.int_value(("--num_machines", "--num-machines"))
            if machines is None and flags.has(("--num_machines", "--num-machines")):
                return
            self._flag_parallel(
                flags,
                ("--num_processes", "--num-processes"),
                "accelerate launch",
                per_container=False,
                machines=machines or 1,
            )
        else:
            tp: tuple[str, ...] = ("--tensor-parallel-size", "--tensor_parallel_size", "-tp")
            dp: tuple[str, ...] = ("--data-parallel-size", "--data_parallel_size", "-dp")
            if kind == "sglang":
                tp = ("--tp-size", "--tp_size", "--tp", "--tensor-parallel-size")
                dp = ("--dp-size", "--dp_size", "--dp", "--data-parallel-size")
            pp = ("--pipeline-parallel-size", "--pipeline_parallel_size", "-pp", "--pp-size", "--pp_size")
            if not _replicas_here(flags, kind):
                dp = ()  # the replicas span nodes, or share the GPUs (SGLang DP attention): count tp x pp only
            name = {"vllm": "vllm serve", "trl": "trl vllm-serve"}.get(kind, "sglang")
            self._flag_parallel(flags, tp, name, per_container=False, pipeline=pp, data=dp)
            self._flag_model(flags, kind, tokens[start:])

    def launch_config(self, node: cst.Call) -> None:
        """`LaunchConfig(nproc_per_node=8)`: processes (one GPU each) per container."""
        arg = keyword_arg(node, "nproc_per_node")
        sizes = self.known_int(arg.value) if arg is not None else None
        if arg is not None and sizes and min(sizes) > 1:
            size = min(sizes)
            self.facts.parallel.append(Parallelism(arg, size, f"LaunchConfig(nproc_per_node={size})", True))

    def _flag_parallel(
        self,
        flags: Flags,
        names: tuple[str, ...],
        launcher: str,
        *,
        per_container: bool,
        machines: int = 1,
        pipeline: tuple[str, ...] = (),
        data: tuple[str, ...] = (),
    ) -> None:
        found = flags.get(names)
        replicas = flags.get(data) if data else None
        if found is None and replicas is not None:
            found, replicas = replicas, None  # data parallel alone: each replica on one GPU
        if found is None:
            return
        flag, token = found
        if token.text is None or not token.text.isdigit():
            return
        size = int(token.text)
        setting = f"{launcher} {flag} {size}"
        for other in (flags.get(pipeline) if pipeline else None, replicas):
            if other is not None and other[1].text is not None and other[1].text.isdigit():
                times = int(other[1].text)
                if times > 1:
                    size *= times
                    setting += f" x {other[0]} {times}"
        self.facts.parallel.append(Parallelism(token.node, size, setting, per_container, machines))

    def _flag_model(self, flags: Flags, kind: str, tokens: list[Token]) -> None:
        model: Token | None = None
        if kind == "vllm" and len(tokens) > 1 and tokens[0].text == "serve":
            candidate = tokens[1]
            if candidate.text is not None and not candidate.text.startswith("-"):
                model = candidate
        names: tuple[str, ...] = ("--model", "--model-path", "--model_path") if kind == "sglang" else ("--model",)
        if kind == "trl":
            names = ("--model", "--model_name_or_path")
        found = flags.get(names)
        if found is not None:
            model = found[1]
        if model is None or model.text is None:
            return
        bounds: list[Precision] = []
        unsure = False
        dtype = flags.get(("--dtype",))
        if dtype is not None and dtype[1].text is not None:
            size = dtype_bytes(dtype[1].text)
            if size is not None:
                bounds.append(Precision(size, dtype[1].text))
        elif dtype is not None:
            pass  # an unknown dtype only loses a bound
        quantization = flags.get(("--quantization", "-q"))
        if quantization is not None:
            text = quantization[1].text
            size = quantization_bytes(text) if text is not None else None
            if size is None:
                unsure = True
            else:
                bounds.append(Precision(size, f"{text} quantization"))
        offload = flags.get(("--cpu-offload-gb", "--cpu_offload_gb")) is not None
        loader = {"vllm": "vllm serve", "trl": "trl vllm-serve"}.get(kind, "sglang launch_server")
        auto = (
            (dtype is None or dtype[1].text == "auto")
            and quantization is None
            and not flags.has(("--load-format", "--load_format"))
            and not flags.unknown
        )
        self.facts.models.append(ModelLoad(model.node, (model.text,), loader, tuple(bounds), unsure, offload, auto))


def _replicas_here(flags: Flags, kind: str) -> bool:
    """Whether data-parallel replicas all run in this container, each on its own GPUs: not with SGLang's
    DP attention (the replicas share the tensor-parallel GPUs) or a multi-node setup."""
    if kind == "sglang":
        return not flags.has(("--enable-dp-attention", "--enable_dp_attention", "--nnodes"))
    multi_node = (
        "--data-parallel-size-local",
        "--data_parallel_size_local",
        "-dpl",
        "--data-parallel-address",
        "--data_parallel_address",
        "--data-parallel-start-rank",
        "--data_parallel_start_rank",
        "--headless",
    )
    return not flags.has(multi_node)


# Flags that change how many GPUs a launcher uses or what it loads: a conditional growth that adds one
# makes the command unknown.
_RELEVANT = re.compile(
    r"parallel|^--?(tp|dp|pp|ep)([-_]size)?$|nproc|num[-_](processes|machines)|nnodes|model|dtype|quantiz|^-q$|"
    r"load[-_]format|offload|dp[-_]attention|config"
)


def _harmless(tokens: list[Token]) -> bool:
    """Flags (with their values) none of which the launchers' readers look at: `--api-key KEY`."""
    if not tokens or tokens[0].text is None or not tokens[0].text.startswith("-"):
        return False
    previous_is_flag = False
    for token in tokens:
        text = token.text
        if text is None:
            if not previous_is_flag:
                return False
            previous_is_flag = False
            continue
        if text.startswith("-"):
            if _RELEVANT.search(text.partition("=")[0]):
                return False
            previous_is_flag = True
        else:
            previous_is_flag = False
    return True


def _segments(tokens: list[Token]) -> Iterator[list[Token]]:
    current: list[Token] = []
    for token in tokens:
        if token.text in _SHELL_OPERATORS:
            yield current
            current = []
        else:
            current.append(token)
    yield current


def _resplit(token: Token) -> list[Token]:
    if token.text is None:
        return [token]
    return [Token(word, token.node) for word in token.text.split()] or [token]


def _launcher(tokens: list[Token]) -> tuple[str, int] | None:
    """Which launcher the command runs ("torchrun", "accelerate", "vllm", "sglang") and where its
    own arguments start."""
    texts = [t.text for t in tokens]
    for index, text in enumerate(texts):
        if text is None:
            return None
        base = text.rsplit("/", 1)[-1]
        following = texts[index + 1] if index + 1 < len(texts) else None
        if base == "torchrun":
            return "torchrun", index + 1
        if base == "accelerate" and following == "launch":
            return "accelerate", index + 2
        if base == "vllm" and following == "serve":
            return "vllm", index + 1  # tokens[start] is "serve", the model follows
        if base == "trl" and following == "vllm-serve":
            return "trl", index + 2
        if text == "-m" and following in ("torch.distributed.run", "torch.distributed.launch"):
            return "torchrun", index + 2
        if text == "-m" and following in ("vllm.entrypoints.openai.api_server", "vllm.entrypoints.api_server"):
            return "vllm", index + 2
        if text == "-m" and following == "sglang.launch_server":
            return "sglang", index + 2
        if not _WRAPPER.match(base):
            return None  # the command runs something else first (ssh, docker...): not ours to read
    return None


# What may come before a launcher in the same command: environment assignments and wrappers.
_WRAPPER = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=.*|env|nohup|exec|time|uv|poetry|run|python[0-9.]*|-u|-[A-Z])$")


# Launcher flags that take no value (so the word after them is the script, not their value).
_BOOLEAN_FLAGS = frozenset(
    {
        "--standalone",
        "--no-python",
        "--no_python",
        "--run-path",
        "--run_path",
        "-m",
        "--module",
        "--multi_gpu",
        "--multi-gpu",
        "--cpu",
        "--use_deepspeed",
        "--use_fsdp",
        "--use_megatron_lm",
        "--tpu",
        "--debug",
        "-q",
        "--quiet",
        "--same_network",
        "--same-network",
    }
)
_SERVER_BOOLEAN = _BOOLEAN_FLAGS - {"-q"}


class Flags:
    """The `--flag value` / `--flag=value` pairs of a launcher (the last one wins, like argparse)."""

    def __init__(self, tokens: list[Token], *, stop_at_positional: bool, boolean: frozenset[str]) -> None:
        self.pairs: list[tuple[str, Token]] = []
        self.seen: set[str] = set()
        self.unknown = False  # a word we cannot read (it may be any flag)
        index = 0
        while index < len(tokens):
            token = tokens[index]
            text = token.text
            if text is None:
                self.unknown = True
                index += 1
                continue
            if text.startswith("-") and len(text) > 1:
                flag, eq, value = text.partition("=")
                self.seen.add(flag)
                if eq:
                    self.pairs.append((flag, Token(value, token.node)))
                elif flag not in boolean and index + 1 < len(tokens):
                    following = tokens[index + 1]
                    if following.text is None or not following.text.startswith("-"):
                        self.pairs.append((flag, following))
                        index += 1
                index += 1
                continue
            if stop_at_positional:
                break  # the script: what follows are its own arguments
            index += 1

    def has(self, names: tuple[str, ...]) -> bool:
        return any(n in self.seen for n in names)

    def get(self, names: tuple[str, ...]) -> tuple[str, Token] | None:
        for flag, token in reversed(self.pairs):
            if flag in names:
                return flag, token
        # a flag present whose value we could not read counts as unknown (None text)
        for name in names:
            if name in self.seen:
                return name, Token(None, cst.Name("unknown"))
        return None

    def int_value(self, names: tuple[str, ...]) -> int | None:
        found = self.get(names)
        if found is None or found[1].text is None or not found[1].text.isdigit():
            return None
        return int(found[1].text)
