"""What a fresh interpreter has imported: for tests that keep a heavy library out of the
processes that do not use it (each one is megabytes of memory in every replica)."""

import subprocess
import sys


def loaded_after(code: str, *modules: str) -> set[str]:
    """Which of `modules` are in `sys.modules` after a new interpreter runs `code`."""
    script = f"{code}\nimport sys\nprint(' '.join(m for m in {modules!r} if m in sys.modules))\n"
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    return set(ran.stdout.split())
