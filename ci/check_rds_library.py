"""Checks that RDS's own library accepts our registration payloads unchanged.

Usage: check_rds_library.py PATH...   (a PATH is a payload file or a directory of *.json)

Each file holds one `POST /service` body (or a JSON array of them), as the connectors
really send it: `cargo xtask registration-payloads` writes one per connector and sample
environment (ci/registration-checks.sh), and a dump of what the Token Storage emulator
received has the same form. Each must parse with RDS.Util.getServiceObject into the
expected class (OAuth2Service when it has an authorize_url, else LoginService), and
to_dict() must give back every field we sent. Finding no payload at all is a failure.
"""
import json
import sys
from pathlib import Path

from RDS import LoginService, OAuth2Service, Util


def payload_files(paths: list[str]) -> list[Path]:
    files = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    return files


def main() -> int:
    failures = 0
    checked = 0
    for path in payload_files(sys.argv[1:]):
        data = json.loads(path.read_text())
        for payload in data if isinstance(data, list) else [data]:
            checked += 1
            name = f"{path.name} ({payload.get('servicename')})"
            try:
                svc = Util.getServiceObject(payload)
            except Exception as e:  # the library raises bare Exceptions
                print(f"FAIL {name}: the library refuses it: {str(e)[:300]}")
                failures += 1
                continue
            expected = OAuth2Service if "authorize_url" in payload else LoginService
            if not isinstance(svc, expected):
                print(f"FAIL {name}: parsed as {type(svc).__name__}, expected {expected.__name__}")
                failures += 1
                continue
            back = svc.to_dict()
            lost = [key for key, value in payload.items() if back.get(key) != value]
            for key in lost:
                print(f"FAIL {name}: field {key}: sent {payload[key]!r}, library gives {back.get(key)!r}")
            failures += bool(lost)
            if not lost:
                print(f"ok   {name}: {type(svc).__name__}, {len(payload)} fields kept")
    if checked == 0:
        print(f"FAIL no payload found in {sys.argv[1:]}")
        return 1
    print(f"rds-library: {checked - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
