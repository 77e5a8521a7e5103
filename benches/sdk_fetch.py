#!/usr/bin/env python3
"""SDK side of `cargo bench --bench fetch_alerts` (see benches/fetch_alerts.rs).

Fetches every alert of one org with the official Carbon Black Cloud SDK
(carbon-black-cloud-sdk 1.5.10), verifying TLS with the simulator's CA, keeps them all in a
list, touches the same fields as the Rust side and prints one JSON line:

    {"side": "sdk", "alerts": N, "fetch_wall_s": ..., "fetch_cpu_s": ..., "import_wall_s": ...,
     "touched": {...}, "ids": [sorted alert ids]}

Usage: sdk_fetch.py URL ORG_KEY CA_FILE ROWS   (token in the FETCH_ALERTS_TOKEN environment
variable, never on the command line).

The query matches the Rust client's request byte for byte in meaning: `rows` = ROWS, sort
`backend_timestamp DESC`, no criteria, no time range, 1-based `start` from the second page on.
Iterating the query (not `list(query)`) avoids the SDK's extra count request.
"""
import json
import os
import sys
import time

t_start = time.perf_counter()

import cbc_sdk  # noqa: E402  (import time is measured)
from cbc_sdk import CBCloudAPI  # noqa: E402
from cbc_sdk.platform import Alert  # noqa: E402

t_imported = time.perf_counter()


def main():
    url, org_key, ca_file, rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    token = os.environ["FETCH_ALERTS_TOKEN"]

    wall0 = time.perf_counter()
    cpu0 = time.process_time()

    cb = CBCloudAPI(url=url, token=token, org_key=org_key, ssl_cert_file=ca_file,
                    integration_name="socdeck-bench")
    query = cb.select(Alert).set_rows(rows).sort_by("backend_timestamp", "DESC")
    alerts = []
    for a in query:  # not list(query): that sends an extra count request first
        alerts.append(a)

    # Touch the same fields as the Rust side, through the SDK's attribute access. Reading a
    # field that is absent from a search row makes the SDK fetch the whole alert again (a GET)
    # before raising AttributeError, so optional fields are read only when the row has them.
    # Present = a non-empty value (our client reads "" and null alike as absent).
    severity_sum = 0
    device_name_chars = device_name_present = 0
    process_name_chars = process_name_present = 0
    backend_ts_present = 0
    status_counts = {}
    for a in alerts:
        info = a._info
        severity_sum += a.severity or 0
        if info.get("device_name"):
            device_name_present += 1
            device_name_chars += len(a.device_name)
        if info.get("process_name"):
            process_name_present += 1
            process_name_chars += len(a.process_name)
        if a.backend_timestamp:
            backend_ts_present += 1
        status = a.workflow["status"]
        status_counts[status] = status_counts.get(status, 0) + 1
    ids = sorted(a.id for a in alerts)

    fetch_wall = time.perf_counter() - wall0
    fetch_cpu = time.process_time() - cpu0

    out = {
        "side": "sdk",
        "alerts": len(alerts),
        "fetch_wall_s": fetch_wall,
        "fetch_cpu_s": fetch_cpu,
        "import_wall_s": t_imported - t_start,
        "sdk_version": cbc_sdk.__version__,
        "python": sys.version.split()[0],
        "touched": {
            "severity_sum": severity_sum,
            "device_name_chars": device_name_chars,
            "device_name_present": device_name_present,
            "process_name_chars": process_name_chars,
            "process_name_present": process_name_present,
            "backend_timestamp_present": backend_ts_present,
            "status_counts": status_counts,
        },
        "ids": ids,
    }
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    # The list is alive until here, as the Rust side keeps its Vec until it has printed.
    del alerts


if __name__ == "__main__":
    main()
