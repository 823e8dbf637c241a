"""The image's torch/CUDA facts: MGL406's messages, MGL301's image-aware suggestions, the inventory."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import lint_bytes

HEAD = 'import modal\n\napp = modal.App("x")\n'


def messages(text: str, code: str) -> list[str]:
    result = lint_bytes("snippet.py", (HEAD + text).encode(), load_settings(select=[code], start=None))
    assert result.error is None
    return [d.message for d in result.diagnostics if d.code == code]


def test_mgl406_names_architecture_pin_and_first_release() -> None:
    found = messages(
        'image = modal.Image.debian_slim().pip_install("torch==2.5.1")\n\n\n'
        '@app.function(gpu="B200", image=image, timeout=60)\ndef f(): ...\n',
        "MGL406",
    )
    assert found == [
        '"B200" is a Blackwell GPU (sm_100), but the image pins torch==2.5.1, and no PyTorch before 2.7 has '
        'sm_100 kernels: its first CUDA operation fails with "no kernel image is available for execution on the '
        "device\"; install torch 2.7 or newer from PyTorch's cu128 index "
        '(index_url="https://download.pytorch.org/whl/cu128")'
    ]


def test_mgl406_names_the_pypi_build() -> None:
    found = messages(
        'image = modal.Image.debian_slim().uv_pip_install("torch==2.7.0")\n\n\n'
        '@app.function(gpu="RTX-PRO-6000", image=image, timeout=60)\ndef f(): ...\n',
        "MGL406",
    )
    assert len(found) == 1
    assert "pins torch==2.7.0: PyPI serves torch 2.7 as its cu126 build, without sm_120 kernels" in found[0]


def test_mgl301_suggests_only_what_the_image_runs() -> None:
    old = messages(
        'image = modal.Image.debian_slim().pip_install("torch==2.5.1")\n\n\n'
        '@app.function(gpu="H100", image=image, timeout=60)\ndef f(): ...\n',
        "MGL301",
    )
    assert len(old) == 1
    assert 'gpu=["H100", "A100-80GB", "H200"]' in old[0]
    new = messages(
        'image = modal.Image.debian_slim().pip_install("torch==2.7.1", '
        'index_url="https://download.pytorch.org/whl/cu128")\n\n\n'
        '@app.function(gpu="H100", image=image, timeout=60)\ndef f(): ...\n',
        "MGL301",
    )
    assert len(new) == 1
    assert 'gpu=["H100", "A100-80GB", "RTX-PRO-6000"]' in new[0]


def test_mgl301_b300_only_with_cuda_13_1() -> None:
    plain = '@app.function(gpu="B200", timeout=60)\ndef f(): ...\n'
    assert messages(plain, "MGL301") == []  # B300 is the only larger type, and no CUDA 13.1 is visible
    cuda = messages(
        'image = modal.Image.from_registry("nvidia/cuda:13.1.0-devel-ubuntu24.04", add_python="3.12")\n\n\n'
        '@app.function(gpu="B200", image=image, timeout=60)\ndef f(): ...\n',
        "MGL301",
    )
    assert len(cuda) == 1
    assert 'gpu=["B200", "B300"]' in cuda[0]


def test_mgl301_respects_architecture_pins_engines_and_clusters() -> None:
    pinned = messages(
        'image = modal.Image.debian_slim().env({"TORCH_CUDA_ARCH_LIST": "9.0a"})\n\n\n'
        '@app.function(gpu="H100", image=image, timeout=60)\ndef f(): ...\n',
        "MGL301",
    )
    assert len(pinned) == 1
    assert 'gpu=["H100", "H200"]' in pinned[0]
    engine = messages(
        'image = modal.Image.debian_slim().pip_install("tensorrt-llm==0.18.0")\n\n\n'
        '@app.function(gpu="H100", image=image, timeout=60)\ndef f(): ...\n',
        "MGL301",
    )
    assert len(engine) == 1
    assert 'gpu=["H100", "H200"]' in engine[0]  # engines are built for one architecture
    ampere = messages(
        'image = modal.Image.debian_slim().pip_install("tensorrt-llm==0.18.0")\n\n\n'
        '@app.function(gpu="A100-80GB:4", image=image, timeout=60)\ndef f(): ...\n',
        "MGL301",
    )
    assert ampere == []  # no other 80 GB Ampere type
    cluster = messages(
        '@app.function(gpu="A10:4", timeout=60)\n@modal.clustered(size=2)\ndef f(): ...\n',
        "MGL301",
    )
    assert cluster == []  # L4:4 or L40S:4 would be partial nodes (MGL404)
    full = messages('@app.function(gpu="H100:8", timeout=60)\n@modal.clustered(size=2)\ndef f(): ...\n', "MGL301")
    assert len(full) == 1
    assert '"A100-80GB:8"' in full[0]


def test_inventory_shows_torch_and_cuda(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        HEAD + 'image = modal.Image.from_registry("nvidia/cuda:12.8.1-devel-ubuntu24.04", add_python="3.12")'
        '.pip_install("torch==2.7.1", index_url="https://download.pytorch.org/whl/cu128")\n\n\n'
        '@app.function(gpu="B200", image=image, timeout=60)\ndef f(): ...\n\n\n'
        '@app.function(gpu="T4", timeout=60)\ndef g(): ...\n'
    )
    result = run_cli("inventory", "--format", "json", "app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["name"], r["torch"], r["cuda"]) for r in rows] == [
        ("f", "torch==2.7.1 (cu128)", "12.8"),
        ("g", None, None),
    ]


def test_torch_requirements_as_intervals() -> None:
    from modal_gpu_lint.analysis.requirements import parse_torch

    def interval(text: str) -> tuple[object, object, object] | None:
        parsed = parse_torch(text)
        return None if parsed is None else (parsed.low, parsed.high, parsed.local)

    assert interval("torch==2.5.1") == (((2, 5, 1), True), ((2, 5, 1), True), None)
    assert interval("torch~=2.5.1") == (((2, 5, 1), True), ((2, 6), False), None)
    assert interval("Torch[extra] >= 2.0, < 2.7, != 2.3.0") == (((2, 0), True), ((2, 7), False), None)
    assert interval("torch==2.5.*") == (((2, 5), True), ((2, 6), False), None)
    assert interval("torch<=2.6.0") == (None, ((2, 6, 0), True), None)
    assert interval("torch==2.5.1+cu121") == (((2, 5, 1), True), ((2, 5, 1), True), "cu121")
    assert interval("torch") == (None, None, None)
    assert interval("torch~=2") == (None, None, None)  # `~=` needs two parts: no bound
    for unreadable in ("torch==2.7.0rc1", "torch>=2.*", "torch; sys_platform == 'linux'", "torch @ https://x/t.whl"):
        assert interval(unreadable) is None, unreadable


def test_shell_installs() -> None:
    from modal_gpu_lint.analysis.requirements import PipCommand, shell_installs

    assert shell_installs("git clone https://x/y /y && cd /y") == []
    assert shell_installs(
        "python -m pip install -U torch==2.5.1 --extra-index-url=https://download.pytorch.org/whl/cu124; ls"
    ) == [PipCommand(("torch==2.5.1",), None, ("https://download.pytorch.org/whl/cu124",))]
    assert shell_installs("uv pip install --system torch<2.6 -i https://download.pytorch.org/whl/cu121") == [
        PipCommand(("torch<2.6",), "https://download.pytorch.org/whl/cu121", ())
    ]
    for unread in ("pip install -r requirements.txt", "conda install pytorch", "bash install.sh", "pip install 'x"):
        assert shell_installs(unread) is None, unread


def test_arch_lists_and_cuda_tags() -> None:
    from modal_gpu_lint.analysis.image import arch_pin_runs, parse_arch_list

    assert parse_arch_list("9.0 9.0a") == ((9, 0, False), (9, 0, True))
    assert parse_arch_list("8.0;8.6;9.0+PTX") is None  # PTX runs on newer GPUs: not a pin
    assert parse_arch_list("Hopper") is None
    archs = parse_arch_list("8.0;9.0a")
    assert archs is not None
    assert arch_pin_runs(archs, (8, 6))  # sm_80 code runs on sm_86
    assert arch_pin_runs(archs, (9, 0))
    assert not arch_pin_runs(archs, (10, 0))
    cuda = messages(
        'image = modal.Image.from_registry("lmsysorg/sglang:v0.5.12-cu131", add_python="3.12")'
        '.pip_install("torch==2.5.1")\n\n\n'
        '@app.function(gpu="B200", image=image, timeout=60)\ndef f(): ...\n',
        "MGL406",
    )
    assert cuda == []  # a registry image may bring its own torch
