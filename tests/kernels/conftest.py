"""Kernel tests run the Triton kernels: on CUDA when present, else under the Triton
interpreter on CPU tensors. The interpreter is chosen here, before any test launches a kernel
(the kernel modules are imported, and their kernels decorated, at the first launch)."""

import os

import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"
