"""rasp-ir frontends (imported as rasp_ir.frontends)."""
