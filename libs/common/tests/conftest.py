import sys
from pathlib import Path

# The toy services below are imported by the tests and by the crash-test subprocesses.
sys.path.insert(0, str(Path(__file__).parent))
