#!/usr/bin/env bash
# The prepared GPU session: on a CUDA machine, check the Triton kernels on the GPU (kernel
# tests and the triton backend's catalogue), then run both kernel benchmarks at full size.
# Results: benchmarks/results/{verify_throughput_cuda,kernels_cuda}.{md,json}, with the GPU's name.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())"
"$PY" -m pytest tests/kernels tests/backends/triton -q -m "not slow"
"$PY" benchmarks/verify_throughput.py --device cuda
"$PY" benchmarks/kernels.py
