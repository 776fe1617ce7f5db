"""Known vulnerabilities in the locked dependencies (``make audit``, part of ``make test``).

Runs pip-audit on ``requirements.lock`` (hashes checked, nothing installed) and decides:

- a known vulnerability in any locked package: **fails** (exit 1), naming each one;
- the vulnerability service cannot be reached (no network, a proxy, a mirror of the package
  index that serves files but not PyPI's JSON API, so that every package comes back « not
  found on PyPI »): **warns** and passes — a build without network is not a vulnerable one;
- pip-audit failing for any other reason: fails, with its output.

    python -m ops.audit [--requirements requirements.lock] [--service pypi|osv]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OK, VULNERABLE, UNREACHABLE, ERROR = "ok", "vulnerable", "unreachable", "error"

# what requests/urllib3 say when the service is out of reach
_NETWORK = re.compile(
    r"ConnectionError|ProxyError|ConnectTimeout|ReadTimeout|Max retries exceeded|"
    r"NameResolutionError|Temporary failure in name resolution|Name or service not known|"
    r"Network is unreachable|Connection refused|timed out|ServiceError|SSLError",
)
_NOT_FOUND = "not found on PyPI"


def classify(returncode: int, report: dict | None, output: str) -> tuple[str, str]:
    """(outcome, a one-line explanation) from pip-audit's exit code, its JSON report (None when
    it wrote none) and what it printed."""
    if report is not None:
        dependencies = report.get("dependencies", [])
        found = [
            f"{d['name']} {d.get('version', '')}: "
            + ", ".join(v.get("id", "?") for v in d["vulns"])
            for d in dependencies
            if d.get("vulns")
        ]
        if found:
            return VULNERABLE, "; ".join(found)
        audited = [d for d in dependencies if "skip_reason" not in d]
        unreachable = [d for d in dependencies if _NOT_FOUND in d.get("skip_reason", "")]
        if dependencies and not audited and unreachable:
            return UNREACHABLE, (
                f"none of the {len(dependencies)} packages could be looked up "
                "(the vulnerability service answers « not found » for every one)"
            )
        if returncode == 0:
            skipped = len(dependencies) - len(audited)
            return OK, f"{len(audited)} packages audited, {skipped} skipped, no known vulnerability"
    if _NETWORK.search(output):
        line = next((m.group(0) for m in _NETWORK.finditer(output)), "network error")
        return UNREACHABLE, f"the vulnerability service is out of reach ({line})"
    return ERROR, f"pip-audit failed (exit {returncode}): {output.strip()[-2000:]}"


def run_audit(
    requirements: Path, *, service: str = "pypi", env: dict | None = None
) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [
            sys.executable, "-m", "pip_audit",
            "--requirement", str(requirements),
            "--require-hashes", "--disable-pip",
            "--vulnerability-service", service,
            "--progress-spinner", "off",
            "--format", "json", "--output", str(out),
            "--cache-dir", str(Path(tmp) / "cache"),
        ]  # fmt: skip
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, env=env, timeout=600, check=False
        )
        report = json.loads(out.read_text()) if out.exists() and out.stat().st_size else None
    return classify(done.returncode, report, done.stdout + done.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--service", default="pypi", choices=["pypi", "osv"])
    args = parser.parse_args(argv)
    outcome, detail = run_audit(args.requirements, service=args.service)
    if outcome == UNREACHABLE:
        print(f"pip-audit: WARNING, not audited: {detail}", file=sys.stderr)
        return 0
    if outcome == OK:
        print(f"pip-audit: {detail}")
        return 0
    print(f"pip-audit: {outcome.upper()}: {detail}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
