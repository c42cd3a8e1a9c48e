#!/usr/bin/python3
"""Drive Debian's python3-sushy (OpenStack Ironic's Redfish library) against a Redfish service.

Usage: sushy_client.py BASE_URL IMAGE_URL
The user name comes from RF_USER and the password from the file named by RF_PASSWORD_FILE (never argv).
Prints one JSON object with what sushy read and did; any sushy exception ends the script with exit 1 and
its message on stderr. Every wait is bounded.
"""
import http.server
import json
import os
import sys
import threading
import time

import sushy
from sushy.resources.system import constants as sys_cons


def wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


class Receiver(http.server.BaseHTTPRequestHandler):
    """An event destination on loopback: keeps every POSTed event body."""
    received = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        Receiver.received.append(json.loads(self.rfile.read(length) or b"{}"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    base, image = sys.argv[1], sys.argv[2]
    with open(os.environ["RF_PASSWORD_FILE"]) as f:
        password = f.read().strip()
    root = sushy.Sushy(base, username=os.environ["RF_USER"], password=password, verify=False)
    out = {"redfish_version": root.redfish_version}

    system = root.get_system()
    out["system"] = {"identity": system.identity, "manufacturer": system.manufacturer, "model": system.json.get("Model"),
                     "power_state": str(system.power_state.value)}

    system.reset_system(sushy.ResetType.ON)
    out["powered_on"] = wait_for(lambda: (system.refresh(), system.power_state == sushy.PowerState.ON)[1])
    system.set_system_boot_options(sys_cons.BootSource.PXE, enabled=sys_cons.BootSourceOverrideEnabled.ONCE)
    system.refresh()
    out["boot"] = {"target": system.boot.target.value, "enabled": system.boot.enabled.value}

    out["processors"] = {"count": len(system.processors.get_members()),
                         "summary_count": system.processors.summary.count,
                         "architecture": system.processors.summary.architecture.value}
    out["storage_max_bytes"] = system.simple_storage.max_size_bytes
    out["nics"] = {mac: str(state.value) for mac, state in system.ethernet_interfaces.summary.items()}
    out["bios_attributes"] = sorted(system.bios.attributes.keys())
    out["secure_boot"] = system.secure_boot.enabled

    manager = root.get_manager()
    cds = [m for m in manager.virtual_media.get_members() if any(t.value in ("CD", "DVD") for t in m.media_types)]
    cd = cds[0]
    cd.insert_media(image)
    out["media_inserted"] = wait_for(lambda: (cd.refresh(), cd.inserted and cd.image == image)[1])
    cd.eject_media()
    out["media_ejected"] = wait_for(lambda: (cd.refresh(), not cd.inserted)[1])

    out["update_service"] = root.get_update_service().identity
    out["task_service"] = root.get_task_service().identity

    events = root.get_event_service()
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        destination = "http://127.0.0.1:%d/events" % server.server_address[1]
        sub = events.subscriptions.create({"Destination": destination, "EventTypes": ["Alert"],
                                           "Context": "sushy-test", "Protocol": "Redfish"})
        out["subscription"] = {"destination": sub.destination, "context": sub.context}
        events.submit_test_event("1", "2026-01-01T00:00:00Z", "Alert", "sushy test event", [],
                                 "TestEvent.1.0.TestEvent", system.path, "OK")
        wait_for(lambda: len(Receiver.received) > 0)
        out["events_received"] = [e["Events"][0]["MessageId"] for e in Receiver.received]
        out["event_context"] = Receiver.received[0]["Context"] if Receiver.received else None
        sub.delete()
        events.subscriptions.refresh()
        out["subscriptions_after_delete"] = len(events.subscriptions.get_members())
    finally:
        server.shutdown()
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except sushy.exceptions.SushyError as err:
        print("sushy: %s: %s" % (type(err).__name__, err), file=sys.stderr)
        sys.exit(1)
