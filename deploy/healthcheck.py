"""The image's HEALTHCHECK: is this container's part answering `GET /healthz`?

    python /opt/wayfare/healthcheck.py PORT_VARIABLE DEFAULT_PORT

The port is PORT_VARIABLE's value when it is set (e.g. AUTH_PORT), else DEFAULT_PORT.
Exit 0 when the answer is 200, 1 otherwise. Standard library only: slim images have no
curl, and this must not import the application.
"""

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    port = os.environ.get(argv[0]) or argv[1]
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            status = response.status
    except (OSError, urllib.error.URLError) as err:
        print(f"{url}: {err}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"{url}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
