"""pytest set-up for python/tests: puts python/ on sys.path so the tests
import the in-tree `sinter` package, and names the build folder."""

import os
import sys

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)
