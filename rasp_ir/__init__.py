"""rasp-ir: a textual RASP intermediate representation and the tools around it.

Importing this package is cheap: it never imports torch or triton.
"""

__version__ = "0.1.0"
