"""The RASP language server (``rasp lsp``): diagnostics, hover, navigation, rename, completion
and outlines for editors, on the hub's parser and checker.

The analysis and feature modules need only the hub; :mod:`rasp_ir.lsp.server` and
:mod:`rasp_ir.lsp.protocol` need pygls (the ``lsp`` extra) and are imported only to serve.
"""
