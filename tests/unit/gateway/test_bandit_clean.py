"""bandit over all the production code (crm, gateway, shared, services): every finding is
one of those explained below, so a new one fails here until it is fixed or explained.

Each explanation says why the finding is not a vulnerability in this suite; `at most`
is how many such findings that file may have."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION_CODE = ["crm", "gateway", "shared", "services"]
SUBPROCESS = ("Our own processes and scripts, started from fixed argument lists (no shell, "
              "nothing from a request or a user in them).")
DEV_DEFAULT = ("A development-only default with an obvious name, refused when "
               "CRM_ENV=production (the vendor simulator's copy by receipts, which checks it).")
NOT_CRYPTO = "Reproducible pseudo-random data or ports, never a secret or a token."
OWN_PICKLE = ("The audience index snapshot is the segments service's own file in its own "
              "SEGMENTS_SNAPSHOT_DIR (as trusted as its code); it is never read from a "
              "request, the network or another service.")

# (file, bandit test id) -> (at most, why)
EXPLAINED: dict[tuple[str, str], tuple[int, str]] = {
    ("crm/cli.py", "B404"): (1, SUBPROCESS),
    ("crm/cli.py", "B603"): (1, SUBPROCESS),
    ("crm/cli.py", "B607"): (1, SUBPROCESS + " `bash` from PATH runs our scripts/servers.sh."),
    ("crm/stack.py", "B404"): (1, SUBPROCESS),
    ("crm/stack.py", "B603"): (1, SUBPROCESS),
    ("crm/stack.py", "B607"): (1, SUBPROCESS + " `bash` from PATH runs our scripts/servers.sh."),
    ("crm/supervisor.py", "B404"): (1, SUBPROCESS),
    ("crm/supervisor.py", "B603"): (1, SUBPROCESS + " The process table's own argv."),
    ("crm/supervisor.py", "B310"): (1, "Polls our own http://127.0.0.1 ready URLs, built from a "
                                       "port number, never a URL from outside (no file: scheme)."),
    ("crm/stack.py", "B311"): (1, NOT_CRYPTO),
    ("crm/seed.py", "B311"): (2, NOT_CRYPTO + " Demo customers and orders, the same per --seed."),
    ("services/vendor-sim/domain.py", "B311"): (1, NOT_CRYPTO + " The simulated vendor's "
                                                   "SENT/FAILED outcome, reproducible per id."),
    ("crm/compose.py", "B104"): (1, "Inside a container the apps must listen on the container's "
                                    "interfaces; compose publishes ports on 127.0.0.1 only."),
    ("crm/compose.py", "B108"): (2, "Paths inside the image's own container, which no other user "
                                    "shares (prometheus multiprocess dir, ready file)."),
    ("crm/compose.py", "B105"): (3, "`${VAR:-default}` placeholders the operator's .env fills; "
                                    "they are not secrets of ours."),
    ("crm/compose.py", "B101"): (1, "A consistency check while writing the compose file, not a "
                                    "security or input check."),
    ("gateway/api_keys.py", "B105"): (1, "`{\"secret_sha256\": 0}` is a projection that leaves "
                                         "the hash out of listings, not a password."),
    ("gateway/web/config.py", "B105"): (1, DEV_DEFAULT),
    ("services/receipts/config.py", "B105"): (1, DEV_DEFAULT),
    ("services/vendor-sim/config.py", "B105"): (1, DEV_DEFAULT + " The vendor simulator is a "
                                                   "development stand-in."),
    ("shared/unsubscribe.py", "B105"): (1, DEV_DEFAULT),
    ("shared/http.py", "B105"): (1, "The name of an environment variable, not its value."),
    ("services/segments/audience/index.py", "B403"): (1, OWN_PICKLE),
    ("services/segments/audience/snapshot.py", "B403"): (1, OWN_PICKLE),
    ("services/segments/audience/snapshot.py", "B301"): (2, OWN_PICKLE),
}


def bandit_findings() -> list[dict]:
    answer = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", *PRODUCTION_CODE,
                             "-f", "json"], cwd=ROOT, capture_output=True, text=True, check=False)
    report = json.loads(answer.stdout)
    assert report["errors"] == [], report["errors"]
    return report["results"]


def test_every_bandit_finding_in_the_production_code_is_explained():
    findings = bandit_findings()
    found = Counter((f["filename"], f["test_id"]) for f in findings)
    unexplained = [f"{f['filename']}:{f['line_number']} {f['test_id']} {f['issue_text']}"
                   for f in findings if (f["filename"], f["test_id"]) not in EXPLAINED]
    assert unexplained == [], "\n".join(unexplained)
    over = {key: count for key, count in found.items() if count > EXPLAINED[key][0]}
    assert over == {}, over
    assert not [f for f in findings if f["issue_severity"] == "HIGH"]
