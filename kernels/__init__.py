"""rasp-ir kernels (imported as rasp_ir.kernels)."""
