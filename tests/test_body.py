"""Reading function bodies (body.py) through the engine: command lines, scopes, prefilter, noqa."""

from __future__ import annotations

import textwrap

import pytest
from conftest import run_cli

from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import lint_bytes, may_have_findings

SETTINGS = load_settings(select=["MGL302", "MGL4"], start=None)  # the default-on body rules
PRELUDE = "import asyncio\nimport os\nimport subprocess\n\nimport modal\n\napp = modal.App('t')\n"


def findings(source: str) -> list[tuple[int, str]]:
    """(line, code) of every MGL3xx/MGL4xx finding, lines counted from the snippet's first line."""
    text = PRELUDE + textwrap.dedent(source)
    result = lint_bytes("snippet.py", text.encode(), SETTINGS)
    assert result.error is None, result.error
    offset = PRELUDE.count("\n")
    return [(d.row - offset, d.code) for d in result.diagnostics]


CASES = {
    "shell operators split commands": (
        """
        @app.function()
        def f():
            os.system("echo start && nvidia-smi -L; echo done")
        """,
        [(2, "MGL401")],
    ),
    "nvidia-smi as an argument is not run": (
        """
        @app.function()
        def f():
            subprocess.run(["echo", "nvidia-smi"])
        """,
        [],
    ),
    "joined list run by a shell": (
        """
        MODEL = "Qwen/Qwen2.5-7B-Instruct"

        @app.function(gpu="H100:2", timeout=60)
        def f():
            cmd = ["vllm", "serve", MODEL, "--tensor-parallel-size", "4"]
            subprocess.Popen(" ".join(cmd), shell=True)
        """,
        [(6, "MGL402")],
    ),
    "split string": (
        """
        @app.function(gpu="L4:2", timeout=60)
        def f():
            subprocess.run("torchrun --nproc_per_node 4 train.py".split())
        """,
        [(4, "MGL402")],
    ),
    "asyncio exec arguments": (
        """
        @app.function(gpu="H100:2", timeout=60)
        async def f():
            await asyncio.create_subprocess_exec("vllm", "serve", "Qwen/Qwen2.5-7B", "-tp", "4")
        """,
        [(4, "MGL402")],
    ),
    "python -m torch.distributed.run": (
        """
        @app.function(gpu="A10:2", timeout=60)
        def f():
            subprocess.run(["python", "-m", "torch.distributed.run", "--nproc_per_node=4", "train.py"])
        """,
        [(4, "MGL402")],
    ),
    "the last repeated flag wins": (
        """
        @app.function(gpu="H100:2", timeout=60)
        def f():
            subprocess.run(["vllm", "serve", "m/x", "-tp", "8", "--tensor-parallel-size", "2"])
        """,
        [],
    ),
    "pipeline stages multiply tensor parallelism": (
        """
        @app.function(gpu="H100:2", timeout=60)
        def f():
            from vllm import LLM

            LLM(model="m/x", tensor_parallel_size=2, pipeline_parallel_size=2)
        """,
        [(6, "MGL402")],
    ),
    "vllm api_server module with --model and --dtype": (
        """
        @app.function(gpu="L4", timeout=60)
        def f():
            subprocess.run(
                "python -m vllm.entrypoints.openai.api_server --model codellama/CodeLlama-34b-hf --dtype half",
                shell=True,
            )
        """,
        [(5, "MGL403")],
    ),
    "an f-string with an unknown part keeps the known flags": (
        """
        @app.function(gpu="H100:2", timeout=60)
        def f(model: str):
            subprocess.Popen(f"vllm serve {model} --tensor-parallel-size 8 --port 8000", shell=True)
        """,
        [(4, "MGL402")],
    ),
    "an unknown flag value is silent": (
        """
        @app.function(gpu="H100:2", timeout=60)
        def f(tp: int):
            subprocess.run(["vllm", "serve", "m/x", "--tensor-parallel-size", str(tp)])
        """,
        [],
    ),
    "a list extended later may override its flags": (
        """
        @app.function(gpu="H100:2", timeout=60)
        def f():
            cmd = ["vllm", "serve", "m/x", "--tensor-parallel-size", "8"]
            cmd.extend(["--tensor-parallel-size", "2"])
            subprocess.Popen(" ".join(cmd), shell=True)
        """,
        [],
    ),
    "a launcher run on another host is not ours": (
        """
        @app.function(gpu="H100:2", timeout=60)
        def f():
            subprocess.run("ssh trainer-host torchrun --nproc-per-node 8 train.py", shell=True)
            subprocess.run(["docker", "run", "img", "vllm", "serve", "m/x", "-tp", "8"])
        """,
        [],
    ),
    "environment assignments and wrappers before the launcher": (
        """
        @app.function(gpu="H100:2", timeout=60)
        def f():
            subprocess.run("CUDA_LAUNCH_BLOCKING=1 nohup uv run torchrun --nproc-per-node 8 train.py", shell=True)
        """,
        [(4, "MGL402")],
    ),
    "a dict of engine options is data": (
        """
        @app.function(gpu="H100:2", timeout=60)
        def f():
            options = dict(tensor_parallel_size=8)
            return options
        """,
        [],
    ),
    "a rebound str() is not the builtin": (
        """
        def str(x):
            return "8"

        @app.function(gpu="H100:2", timeout=60)
        def f():
            subprocess.run(["vllm", "serve", "m/x", "--tensor-parallel-size", str(2)])
        """,
        [],
    ),
    "a local shadows the module constant": (
        """
        MODEL = "meta-llama/Llama-2-70b-hf"

        @app.function(gpu="L4", timeout=60)
        def f():
            from vllm import LLM

            MODEL = "Qwen/Qwen2.5-0.5B-Instruct"
            LLM(model=MODEL, dtype="bfloat16")
        """,
        [],
    ),
    "a method parameter is unknown": (
        """
        @app.cls(gpu="L4", timeout=60)
        class C:
            @modal.method()
            def load(self, model: str):
                from vllm import LLM

                LLM(model=model, dtype="bfloat16")
        """,
        [],
    ),
    "a tokenizer is not weights": (
        """
        @app.function(gpu="T4", timeout=60)
        def f():
            from transformers import AutoTokenizer

            AutoTokenizer.from_pretrained("meta-llama/Llama-2-70b-hf", torch_dtype="bfloat16", device_map="cuda")
        """,
        [],
    ),
    "from_pretrained moved to the GPU in a chain": (
        """
        @app.function(gpu="T4", timeout=60)
        def f():
            import torch
            from transformers import AutoModelForCausalLM

            AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-14B", torch_dtype=torch.bfloat16).cuda()
        """,
        [(7, "MGL403")],
    ),
    "a GPU given by with_options on an attribute receiver": (
        """
        @app.cls(timeout=60)
        class Model:
            @modal.method()
            def f(self):
                import torch

                torch.cuda.synchronize()

        def launch(registry):
            registry.Model.with_options(gpu="L4")
        """,
        [],
    ),
    "with_options on another class does not count": (
        """
        @app.cls(timeout=60)
        class Model:
            @modal.method()
            def f(self):
                import torch

                torch.cuda.synchronize()

        @app.cls(timeout=60)
        class Other:
            pass

        Small = Other.with_options(gpu="L4")
        """,
        [(2, "MGL401")],
    ),
    "a device-name check that accepts the H200 too": (
        """
        @app.function(gpu="H100", timeout=60)
        def f():
            import torch

            name = torch.cuda.get_device_name()
            assert name.startswith("NVIDIA H100") or name.startswith("NVIDIA H200")
        """,
        [],
    ),
    "a regular expression on the device name": (
        """
        import re

        @app.function(gpu="H100", timeout=60)
        def f():
            import torch

            assert re.search("H100", torch.cuda.get_device_name())
        """,
        [(4, "MGL302")],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_body_case(name: str) -> None:
    source, expected = CASES[name]
    assert findings(source) == expected


def test_prefilter_lets_cuda_only_files_through() -> None:
    source = (
        b"import modal\napp = modal.App()\n@app.function()\ndef f():\n    import torch\n    torch.cuda.synchronize()\n"
    )
    assert may_have_findings(source)
    cluster = b"import modal\napp = modal.App()\n@app.function()\n@modal.clustered(size=2)\ndef f(): ...\n"
    assert may_have_findings(cluster)
    assert not may_have_findings(b"import modal\napp = modal.App()\n@app.function()\ndef f(): return 1\n")


def test_noqa_silences_a_body_finding(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "noqa.py"
    path.write_text(
        PRELUDE
        + "@app.function(gpu='H100:2', timeout=60)\ndef f():\n    from vllm import LLM\n\n"
        + "    LLM(model='m/x', tensor_parallel_size=4)  # noqa: MGL402\n"
    )
    result = run_cli("--no-cache", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("code", ["MGL301", "MGL302", "MGL303", "MGL401", "MGL402", "MGL403", "MGL404", "MGL405"])
def test_rule_command_explains(code: str) -> None:
    result = run_cli("rule", code)
    assert result.returncode == 0, result.stderr
    assert code in result.stdout
    assert "## Why is this bad?" in result.stdout


def test_invalid_requests_leave_body_rules_silent() -> None:
    # "A10:8" is MGL003's finding; the advice and needs rules say nothing about an impossible request.
    settings = load_settings(select=["ALL"], start=None)
    source = PRELUDE + (
        "@app.function(gpu='A10:8', timeout=60)\ndef f():\n    from vllm import LLM\n\n"
        "    LLM(model='m/x-70b', dtype='bfloat16', tensor_parallel_size=16)\n"
    )
    codes = [d.code for d in lint_bytes("x.py", source.encode(), settings).diagnostics]
    assert codes == ["MGL003"]
