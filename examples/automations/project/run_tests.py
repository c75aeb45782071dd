"""A tiny test runner (the sandbox's python has no pytest): runs tests/test_*.py functions."""

import importlib.util
import pathlib
import sys
import traceback

sys.path.insert(0, ".")
failed = passed = 0
for path in sorted(pathlib.Path("tests").glob("test_*.py")):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in sorted(n for n in dir(module) if n.startswith("test_")):
        try:
            getattr(module, name)()
            passed += 1
        except Exception:
            failed += 1
            print(f"FAILED {path}::{name}\n{traceback.format_exc(limit=1)}")
print(f"{failed} failed, {passed} passed")
