"""Checks that RDS's own library accepts our registration payloads unchanged.

Reads a JSON array of payloads on stdin. Each must parse with
RDS.Util.getServiceObject into the expected class (OAuth2Service when it has an
authorize_url, else LoginService), and to_dict() must give back every field we sent.
"""
import json
import sys

from RDS import LoginService, OAuth2Service, Util

payloads = json.load(sys.stdin)
failures = 0
for payload in payloads:
    name = payload["servicename"]
    svc = Util.getServiceObject(payload)
    expected = OAuth2Service if "authorize_url" in payload else LoginService
    if not isinstance(svc, expected):
        print(f"FAIL {name}: parsed as {type(svc).__name__}, expected {expected.__name__}")
        failures += 1
        continue
    back = svc.to_dict()
    for key, value in payload.items():
        if back.get(key) != value:
            print(f"FAIL {name}: field {key}: sent {value!r}, library gives {back.get(key)!r}")
            failures += 1
    print(f"ok   {name}: {type(svc).__name__}, {len(payload)} fields kept")
print(f"rds-library: {len(payloads) - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
