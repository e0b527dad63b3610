"""rasp-ir backends (imported as rasp_ir.backends)."""
