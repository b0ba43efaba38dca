"""Schemathesis hooks for ci/conformance.sh: most generated requests carry a userId that
authenticates and often name things that exist (a file or folder of the sample tree, a
Zenodo project with one file), so the checks reach the connectors' real answers and not
only their 400/401/404s. The rest keep what was generated.

Environment (set by the script): CONFORMANCE_URL, CONFORMANCE_USER_ID,
CONFORMANCE_PATHS (`|`-separated paths of the sample tree; fileStorage only),
CONFORMANCE_PROJECT (`1`: create a project with a file first; metadata only).
The variables come from each emulator's announcement (test_support::emulator);
CONFORMANCE_ALLOW_501 is read by the script (ci/conformance/allow-501.toml), not here.
"""

import os
import random

import requests
import schemathesis

URL = os.environ["CONFORMANCE_URL"]
USER_ID = os.environ["CONFORMANCE_USER_ID"]
PATHS = [p for p in os.environ.get("CONFORMANCE_PATHS", "").split("|") if p]
RNG = random.Random(int(os.environ.get("CONFORMANCE_SEED", "1")))


def _existing_project():
    """A project holding one file: its id and the file's id."""
    r = requests.post(f"{URL}/metadata/project", json={"userId": USER_ID, "metadata": {"title": "conformance"}}, timeout=20)
    r.raise_for_status()
    project = r.json()["projectId"]
    files = {"file": ("data.csv", b"a,b\n1,2\n", "text/csv")}
    r = requests.post(f"{URL}/metadata/project/{project}/files", data={"userId": USER_ID}, files=files, timeout=20)
    r.raise_for_status()
    r = requests.get(f"{URL}/metadata/project/{project}/files", params={"userId": USER_ID}, timeout=20)
    r.raise_for_status()
    return project, r.json()[0]["id"]


PROJECT = _existing_project() if os.environ.get("CONFORMANCE_PROJECT") == "1" else None


def _valid_user(value):
    # A non-string userId is what a negative case is about: keep it.
    return value is None or isinstance(value, str)


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if RNG.random() < 0.1:
        return
    # Deletions keep their generated targets, so the sample and the project survive.
    keep_targets = case.method.upper() == "DELETE"
    names = {p.name for p in case.operation.query}
    query = dict(case.query or {})
    if "userId" in names and _valid_user(query.get("userId")):
        query["userId"] = USER_ID
    if PATHS and "filepath" in names and not keep_targets and RNG.random() < 0.5:
        query["filepath"] = RNG.choice(PATHS)
    case.query = query
    if isinstance(case.body, dict) and _valid_user(case.body.get("userId")):
        body = {**case.body, "userId": USER_ID}
        if PATHS and "filepath" in body and not keep_targets and RNG.random() < 0.6:
            body["filepath"] = RNG.choice(PATHS)
        case.body = body
    params = case.path_parameters or {}
    if PROJECT and "project-id" in params and not keep_targets and RNG.random() < 0.6:
        params = {**params, "project-id": PROJECT[0]}
        if "file-id" in params:
            params["file-id"] = RNG.choice([PROJECT[1], "0"])
        case.path_parameters = params
