"""The image's HEALTHCHECK: exit 0 when ``GET /healthz`` on the container's own port answers 200.

The port is the image's ``PORT`` variable (default 8000); the check asks 127.0.0.1, which the
server's ``HOST`` (default 0.0.0.0) includes.
"""

import os
import sys
import urllib.request

port = os.environ.get("PORT", "8000")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as reply:
        sys.exit(0 if reply.status == 200 else 1)
except OSError as exc:
    print(f"healthz on port {port}: {exc}", file=sys.stderr)
    sys.exit(1)
