"""The vulnerability audit of `make test` (ops/audit.py): a known vulnerability fails the
build, a vulnerability service out of reach only warns."""

from __future__ import annotations

import os

from ops.audit import ERROR, OK, ROOT, UNREACHABLE, VULNERABLE, classify, main, run_audit


def _lock_lines(name: str) -> str:
    """One package of requirements.lock with its hashes."""
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}=="))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    --hash"):
            break
        block.append(line)
    return "\n".join(block) + "\n"


def test_a_known_vulnerability_fails():
    report = {
        "dependencies": [
            {"name": "django", "version": "3.2.0", "vulns": [{"id": "PYSEC-2021-98"}]},
            {"name": "lxml", "version": "6.2.0", "vulns": []},
        ]
    }
    outcome, detail = classify(1, report, "Found 1 known vulnerability in 1 package")
    assert outcome == VULNERABLE and detail == "django 3.2.0: PYSEC-2021-98"


def test_a_vulnerability_fails_even_when_other_packages_could_not_be_looked_up():
    report = {
        "dependencies": [
            {"name": "a", "skip_reason": "Dependency not found on PyPI and could not be audited"},
            {"name": "django", "version": "3.2.0", "vulns": [{"id": "GHSA-x"}]},
        ]
    }
    assert classify(1, report, "")[0] == VULNERABLE


def test_clean_packages_pass():
    report = {"dependencies": [{"name": "lxml", "version": "6.2.0", "vulns": []}]}
    assert classify(0, report, "No known vulnerabilities found") == (
        OK,
        "1 packages audited, 0 skipped, no known vulnerability",
    )


def test_every_package_not_found_means_the_service_did_not_answer():
    report = {
        "dependencies": [
            {
                "name": n,
                "skip_reason": f"Dependency not found on PyPI and could not be audited: {n}",
            }
            for n in ("django", "lxml")
        ]
    }
    assert classify(0, report, "")[0] == UNREACHABLE


def test_another_failure_is_an_error():
    assert classify(2, None, "pip-audit: error: unrecognized arguments")[0] == ERROR


def test_a_service_out_of_reach_warns_and_passes(tmp_path, capsys, monkeypatch):
    """A real pip-audit run through a proxy that refuses every connection (on this machine)."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(_lock_lines("django"))
    refused = "http://127.0.0.1:9"
    env = {**os.environ, "HTTPS_PROXY": refused, "https_proxy": refused, "ALL_PROXY": refused}
    outcome, detail = run_audit(requirements, env=env)
    assert outcome == UNREACHABLE, detail
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["--requirements", str(requirements)]) == 0
    assert "WARNING, not audited" in capsys.readouterr().err
