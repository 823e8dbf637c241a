"""modal-gpu-lint: static checks for GPU requests in Modal programs."""

__version__ = "0.1.0"
