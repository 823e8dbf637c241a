"""Parameter counts and precisions read from model ids (models.py + models.toml)."""

from __future__ import annotations

import re

import pytest

from modal_gpu_lint.facts.models import (
    Precision,
    dtype_bytes,
    model_size,
    model_table,
    precision_from_id,
    quantization_bytes,
)


@pytest.mark.parametrize(
    ("model_id", "params_b", "from_table"),
    [
        ("meta-llama/Llama-2-70b-hf", 70, False),
        ("meta-llama/Meta-Llama-3.1-8B-Instruct", 8, False),
        ("Qwen/Qwen2.5-1.5B-Instruct", 1.5, False),  # "2.5" is a version, "1.5B" the size
        ("HuggingFaceTB/SmolLM-135M", 0.135, False),
        ("Qwen/Qwen3-30B-A3B", 30, False),  # total parameters, not the 3B active ones
        ("Qwen/Qwen3-235B-A22B-Instruct-2507-FP8", 235, False),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", 32, False),  # not DeepSeek-R1's 671B
        ("google-t5/t5-11b", 11, False),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", 46.7, True),
        ("NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO", 46.7, True),
        ("mistralai/Mixtral-8x22B-v0.1", 140.6, True),
        ("deepseek-ai/DeepSeek-V3", 671, True),
        ("deepseek-ai/DeepSeek-R1-0528", 671, True),
        ("openai/gpt-oss-120b", 116.8, True),
        ("microsoft/phi-2", 2.7, True),
        ("microsoft/Phi-3.5-mini-instruct", 3.8, True),
        ("gpt2", 0.124, True),
        ("openai-community/gpt2-xl", 1.5, True),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", 108.6, True),
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", 400, True),
    ],
)
def test_known_sizes(model_id: str, params_b: float, from_table: bool) -> None:
    size = model_size(model_id)
    assert size is not None
    assert size.params_b == pytest.approx(params_b)
    assert size.from_table is from_table


@pytest.mark.parametrize(
    "model_id",
    [
        "my-org/house-model",  # no size in the name
        "someone/Mixtral-8x99B",  # experts times size: the total is not the product
        "someone/Llama-4-Custom-17B-16E",  # active parameters and experts: total unknown
        "bigscience/bloom-7b1",  # "7b1" is not a delimited size
        "org/merge-7B-and-13B",  # two sizes: not sure which
        "/models/llama-70b",  # a local path
        "./llama-70b",
        "s3://bucket/llama-70b",
        "sentence-transformers/all-MiniLM-L6-v2",
        "BAAI/bge-m3",
    ],
)
def test_unknown_sizes(model_id: str) -> None:
    assert model_size(model_id) is None


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("RedHatAI/Meta-Llama-3.1-405B-Instruct-FP8", 1.0),
        ("neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8-dynamic", 1.0),
        ("hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4", 0.5),
        ("TheBloke/Llama-2-70B-Chat-AWQ", 0.5),
        ("Qwen/Qwen2.5-72B-Instruct-GPTQ-Int8", 1.0),
        ("TheBloke/Llama-2-70B-GPTQ", 0.25),  # GPTQ without a width: could be 2-bit
        ("unsloth/Llama-3.3-70B-Instruct-bnb-4bit", 0.5),
        ("RedHatAI/Llama-3.3-70B-Instruct-quantized.w4a16", 0.5),
        ("RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8", 1.0),
        ("TheBloke/Llama-2-7B-fp16", 2.0),
        ("nvidia/Llama-3.1-405B-Instruct-NVFP4", 0.5),
    ],
)
def test_precision_from_id(model_id: str, expected: float) -> None:
    precision = precision_from_id(model_id)
    assert isinstance(precision, Precision)
    assert precision.bytes == expected


@pytest.mark.parametrize("model_id", ["meta-llama/Llama-2-7b-hf", "Qwen/Qwen2.5-7B-Instruct", "microsoft/phi-2"])
def test_no_precision_in_id(model_id: str) -> None:
    assert precision_from_id(model_id) is None


@pytest.mark.parametrize(
    "model_id",
    [
        "TheBloke/Llama-2-70B-Chat-GGUF",
        "turboderp/Llama-3-70B-Instruct-exl2",
        "mlx-community/Llama-3-70B-mlx",
        "x/Llama-2-70b-quantized",
    ],
)
def test_quantized_with_unknown_width(model_id: str) -> None:
    assert precision_from_id(model_id) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bfloat16", 2),
        ("BF16", 2),
        ("torch.float16", 2),
        ("half", 2),
        ("float32", 4),
        ("torch.float", 4),
        ("auto", None),
        ("int8", None),
    ],
)
def test_dtype_bytes(text: str, expected: float | None) -> None:
    assert dtype_bytes(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("fp8", 1), ("AWQ", 0.5), ("gptq", 0.25), ("bitsandbytes", 0.5), ("gguf", None)]
)
def test_quantization_bytes(text: str, expected: float | None) -> None:
    assert quantization_bytes(text) == expected


HUB_URL = re.compile(r"https://huggingface\.co/([\w.-]+/[\w.-]+)")


def test_table_rows_cite_a_source_they_match() -> None:
    table = model_table()
    assert table.models
    for row in table.models:
        assert row.params_b > 0, row
        assert row.source, row
        match = HUB_URL.search(row.source)
        if match:  # the id the card belongs to must be read with the row's own size
            size = model_size(match.group(1))
            assert size is not None, row.source
            assert size.from_table, row.source
            assert size.params_b == row.params_b, row.source
        else:
            assert row.source.startswith("https://"), row
