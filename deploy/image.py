"""What goes into one part's image (deploy/Dockerfile runs this in its build stage).

    python image.py requirements SERVICE   third-party requirements of wayfare-common and
                                           SERVICE, one per line (pinned by PIP_CONSTRAINT)
    python image.py stage SERVICE DEST     copy wayfare-common and SERVICE's directory to
                                           DEST, in the repository's layout

Run from the repository root (or a copy of its packaging files). Standard library only:
it runs before anything is installed.
"""

import re
import shutil
import sys
import tomllib
from pathlib import Path

# Each part of the suite and its directory; the package is wayfare_<name>.
SOURCES = {
    "auth": "services/auth",
    "flight": "services/flight",
    "booking": "services/booking",
    "payment": "services/payment",
    "notification": "services/notification",
    "admin": "services/admin",
    "gateway": "gateway",
}
COMMON = "libs/common"
# Never in an image: tests, caches, local data.
IGNORED = shutil.ignore_patterns("tests", "__pycache__", "*.pyc", ".pytest_cache", ".data")


def _name(requirement: str) -> str:
    """The canonical project name of a PEP 508 requirement."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _project(root: Path, directory: str) -> dict:
    with (root / directory / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]


def directories(service: str) -> list[str]:
    """The source directories SERVICE's image holds: wayfare-common, then its own."""
    if service not in SOURCES:
        raise SystemExit(f"unknown SERVICE {service!r}: one of {', '.join(SOURCES)}")
    return [COMMON, SOURCES[service]]


def requirements(service: str, root: Path = Path(".")) -> list[str]:
    """Third-party requirements of SERVICE and of the local packages it depends on
    (wayfare-common), without duplicates, in the order they are declared."""
    local = {_name(_project(root, d)["name"]): d for d in (COMMON, *SOURCES.values())}
    found: dict[str, str] = {}
    pending = directories(service)
    seen: set[str] = set()
    while pending:
        directory = pending.pop(0)
        if directory in seen:
            continue
        seen.add(directory)
        for requirement in _project(root, directory).get("dependencies", []):
            name = _name(requirement)
            if name in local:
                pending.append(local[name])
            else:
                found.setdefault(requirement.split(";")[0].split("#")[0].strip(), name)
    return list(found)


def stage(service: str, destination: Path, root: Path = Path(".")) -> None:
    for directory in directories(service):
        shutil.copytree(root / directory, destination / directory, ignore=IGNORED)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "requirements":
        print("\n".join(requirements(argv[1])))
        return 0
    if len(argv) == 3 and argv[0] == "stage":
        stage(argv[1], Path(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
