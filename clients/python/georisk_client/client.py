"""Channels, calls and readable errors for the georisk API.

Errors are turned into two exceptions a program can act on:

- ``Unreachable``: nothing answers at the address (down, wrong port, DNS,
  TLS handshake), or the call failed for a reason retrying will not fix.
- ``NotReady``: the server answers but cannot serve this yet: it does not
  implement the RPC (UNIMPLEMENTED), it is still loading (health
  NOT_SERVING), or it has not scored the graph yet (UNAVAILABLE from the
  RPC itself).

Both carry ``exit_code`` (1 and 3) and a one-line message that names the
service, the address and the gRPC code.
"""

import os
import tempfile
import time

import grpc

from georisk_client import _stubs as pb

# Messages with which gRPC reports that it reached no server at all.
_TRANSPORT_FAILURES = (
    "failed to connect",
    "connection refused",
    "dns resolution failed",
    "name resolution",
    "handshake",
    "socket closed",
    "connection reset",
    "ssl",
    "no route",
)


class GeoriskError(Exception):
    exit_code = 1


class Unreachable(GeoriskError):
    exit_code = 1


class NotReady(GeoriskError):
    exit_code = 3


def connect(target, tls_ca=None, token=None, server_name=None):
    """A channel to `target` ("host:port" or "dns:///name:port").

    tls_ca: PEM file of the CA that signed the server's certificate (TLS).
    token: a bearer token sent with every call. Without TLS it is allowed
        only to loopback addresses (gRPC's local credentials), as the servers
        accept tokens in plaintext only on loopback.
    server_name: the name expected in the server's certificate, when it is not
        the host of `target`.
    """
    options = [("grpc.keepalive_time_ms", 30000), ("grpc.keepalive_timeout_ms", 10000)]
    if server_name:
        options.append(("grpc.ssl_target_name_override", server_name))
    if tls_ca:
        with open(tls_ca, "rb") as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
    elif token:
        creds = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    else:
        return grpc.insecure_channel(target, options=options)
    if token:
        creds = grpc.composite_channel_credentials(creds, grpc.access_token_call_credentials(token))
    return grpc.secure_channel(target, creds, options=options)


def describe_error(err, what, target):
    """Turns a grpc.RpcError from `what` ("Scorer.ListTopRisks") at `target`
    into Unreachable or NotReady with a readable message."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = (err.details() if hasattr(err, "details") else str(err)) or ""
    name = code.name if code else "UNKNOWN"
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return NotReady(f"the server at {target} does not implement {what} yet ({name})")
    if code == grpc.StatusCode.UNAVAILABLE:
        if any(s in details.lower() for s in _TRANSPORT_FAILURES):
            return Unreachable(f"cannot reach {target} for {what} ({name}: {details})")
        return NotReady(f"{what} at {target} is not available yet ({name}: {details})")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return Unreachable(f"{what} at {target} did not answer in time ({name})")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Unreachable(f"{what} at {target} needs a valid token ({name}: {details})")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return Unreachable(f"the token may not call {what} at {target} ({name}: {details})")
    return Unreachable(f"{what} at {target} failed ({name}: {details})")


class Georisk:
    """The Scorer, Alerts and Health stubs of one scorer server."""

    def __init__(self, channel, target="", timeout=10.0):
        self.target = target
        self.timeout = timeout
        self.scorer = pb.scorer_pb2_grpc.ScorerStub(channel)
        self.alerts = pb.alerts_pb2_grpc.AlertsStub(channel)
        self.health = pb.health_pb2_grpc.HealthStub(channel)

    def health_status(self, service):
        """The health of `service` ("georisk.v1.Scorer"): "SERVING",
        "NOT_SERVING"... Raises Unreachable when nothing answers."""
        request = pb.health_pb2.HealthCheckRequest(service=service)
        try:
            response = self.health.Check(request, timeout=self.timeout)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            raise Unreachable(f"cannot reach the georisk server at {self.target} "
                              f"({e.code().name}: {e.details()})") from None
        return pb.health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def wait_serving(self, service, wait_s):
        """Waits up to wait_s for `service` to report SERVING."""
        deadline = time.monotonic() + wait_s
        while True:
            status = self.health_status(service)
            if status == "SERVING":
                return
            if time.monotonic() >= deadline:
                raise NotReady(f"{service} at {self.target} reports {status}")
            time.sleep(0.5)

    def top_risks(self, limit=10, factor=0, wait_scored_s=0.0):
        """Scorer.ListTopRisks, highest first. While the scorer answers
        UNAVAILABLE (not scored yet) it retries for up to wait_scored_s."""
        request = pb.scorer_pb2.ListTopRisksRequest(factor=factor, page_size=limit)
        deadline = time.monotonic() + wait_scored_s
        delay = 0.2
        while True:
            try:
                return self.scorer.ListTopRisks(request, timeout=self.timeout)
            except grpc.RpcError as e:
                err = describe_error(e, "Scorer.ListTopRisks", self.target)
                retry = e.code() == grpc.StatusCode.UNAVAILABLE and isinstance(err, NotReady)
                if not retry or time.monotonic() + delay > deadline:
                    raise err from None
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def watch_alerts(self, from_sequence, seconds):
        """Alerts.WatchAlerts from `from_sequence` for `seconds`: yields each
        WatchAlertsResponse (alerts may be empty: a heartbeat). Ends quietly
        when the time is up."""
        request = pb.alerts_pb2.WatchAlertsRequest(from_sequence=from_sequence)
        stream = self.alerts.WatchAlerts(request, timeout=seconds)
        try:
            for response in stream:
                yield response
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return
            raise describe_error(e, "Alerts.WatchAlerts", self.target) from None
        finally:
            stream.cancel()


def load_sequence(path):
    """The last alert sequence saved in `path`, or 0 if there is none."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except FileNotFoundError:
        return 0
    if not text.isdigit():
        raise GeoriskError(f"{path}: not an alert sequence: {text!r}")
    return int(text)


def save_sequence(path, sequence):
    """Saves `sequence` in `path` atomically (written aside, then renamed)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".sequence.")
    with os.fdopen(fd, "w") as f:
        f.write(f"{sequence}\n")
    os.replace(tmp, path)
