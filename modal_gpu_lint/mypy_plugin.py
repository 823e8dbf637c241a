"""The mypy plugin's public path (`plugins = ["modal_gpu_lint.mypy_plugin"]`); it lives in `doors`."""

from modal_gpu_lint.doors.mypy_plugin import plugin

__all__ = ["plugin"]
