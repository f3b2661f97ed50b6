"""Events expire one --event-ttl after their last write, as kube-apiserver's."""
import json
import subprocess
import time

from conftest import TUG, Server, wait_until

CORE_EVENT = """
apiVersion: v1
kind: Event
metadata: {name: started, namespace: default}
involvedObject: {kind: Pod, name: p, namespace: default}
reason: Started
message: started
type: Normal
"""

EVENTS_V1_EVENT = """
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: pulled, namespace: default}
eventTime: "2026-01-01T00:00:00.000000Z"
reportingController: example.com/test
reportingInstance: test-1
action: Pull
reason: Pulled
note: pulled
type: Normal
regarding: {kind: Pod, name: p, namespace: default}
"""


def event_names(server):
    out = server.kubectl("get", "events", "-n", "default", "-o", "json").stdout
    return sorted(item["metadata"]["name"] for item in json.loads(out)["items"])


def test_events_expire_after_the_ttl():
    s = Server(extra_args=["--event-ttl", "4s"]).start()
    try:
        created = time.monotonic()
        s.kubectl("create", "-f", "-", input=CORE_EVENT)
        s.kubectl("create", "-f", "-", input=EVENTS_V1_EVENT)
        # Both are there at first (kubectl reads events.k8s.io Events as core/v1 too: one store)...
        names = event_names(s)
        if time.monotonic() - created < 3:
            assert {"started", "pulled"} <= set(names), names
        # ...and gone within the TTL and the expiry loop's second.
        wait_until(lambda: not {"started", "pulled"} & set(event_names(s)), 30, "the events to expire")
        assert time.monotonic() - created >= 4
        assert not s.crashes()
    finally:
        s.cleanup()


def test_an_impossible_event_ttl_is_one_clear_line():
    result = subprocess.run([TUG, "server", "--data-dir", "/nonexistent-tug-test", "--event-ttl", "99999999999h"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert any("--event-ttl" in line for line in lines), result.stderr
    assert "Fatal error" not in result.stderr and len(lines) <= 3, result.stderr
