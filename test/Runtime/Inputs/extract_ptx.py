"""Prints the PTX of a C++ string constant `NAME = "..." "..." ...;` (each
piece a line ending in \\n) from a source file. Standard library only.

usage: extract_ptx.py FILE.cpp NAME
"""
import ast
import re
import sys

src = open(sys.argv[1]).read()
m = re.search(re.escape(sys.argv[2]) + r"\s*=\s*((?:\s*\"(?:[^\"\\]|\\.)*\")+)\s*;", src)
if not m:
    sys.exit(f"extract_ptx: no string constant {sys.argv[2]} in {sys.argv[1]}")
sys.stdout.write("".join(ast.literal_eval(p) for p in re.findall(r"\"(?:[^\"\\]|\\.)*\"", m.group(1))))
