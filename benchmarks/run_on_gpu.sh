#!/usr/bin/env bash
# The prepared GPU session: on a CUDA machine, check the Triton kernels on the GPU (kernel
# tests, the triton backend's catalogue, a TP step on CUDA against the CPU, a population member
# on CUDA against the CUDA run of its seed), then run the benchmarks at full size. Results:
# benchmarks/results/{verify_throughput_cuda,kernels_cuda}.* (with the GPU's name) and
# benchmarks/results/cuda/tp_training_speed.* (a sort epoch on the GPU, fused attention under
# --attention-impl auto; compare with tp_training_speed.md, the CPU's).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())"
"$PY" -m pytest tests/kernels tests/backends/triton tests/frontends/transformer_programs/test_device.py \
  tests/frontends/transformer_programs/test_population_train.py::test_on_cuda_a_member_trains_as_the_cuda_run_of_its_seed \
  -q -m "not slow"
"$PY" benchmarks/verify_throughput.py --device cuda
"$PY" benchmarks/kernels.py
"$PY" benchmarks/tp_training_speed.py --batch-sizes 512 --results benchmarks/results/cuda
