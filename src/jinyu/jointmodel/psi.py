"""Private set intersection through OpenMined's ECDH-based PSI (`openmined-psi`).

The host is the PSI server, the guest the client. The guest learns the intersection (or only its size when
`reveal_intersection` is false); the host learns the size of the guest's set and nothing else from PSI.
The RAW data structure sends the host's blinded set without false positives.
"""

from __future__ import annotations

from collections.abc import Sequence

import private_set_intersection.python as psi

# The false-positive rate is irrelevant for RAW (exact), but the API asks for one.
_FPR = 1e-9


class PsiClient:
    def __init__(self, items: Sequence[str], reveal_intersection: bool) -> None:
        self.items = list(items)
        self.reveal = reveal_intersection
        self._client = psi.client.CreateWithNewKey(reveal_intersection)

    def request(self) -> bytes:
        return bytes(self._client.CreateRequest(self.items).SerializeToString())

    def intersection(self, setup: bytes, response: bytes) -> list[str]:
        indices = self._client.GetIntersection(_setup(setup), _response(response))
        return sorted(self.items[i] for i in indices)

    def size(self, setup: bytes, response: bytes) -> int:
        return int(self._client.GetIntersectionSize(_setup(setup), _response(response)))


def serve(items: Sequence[str], request: bytes, reveal_intersection: bool) -> tuple[bytes, bytes]:
    """The host's answer to one PSI request: (setup message, response), each serialized."""
    server = psi.server.CreateWithNewKey(reveal_intersection)
    parsed = psi.Request()
    parsed.ParseFromString(request)
    setup = server.CreateSetupMessage(
        _FPR, len(parsed.encrypted_elements), list(items), psi.DataStructure.RAW
    )
    return bytes(setup.SerializeToString()), bytes(server.ProcessRequest(parsed).SerializeToString())


def _setup(data: bytes) -> psi.ServerSetup:
    message = psi.ServerSetup()
    message.ParseFromString(data)
    return message


def _response(data: bytes) -> psi.Response:
    message = psi.Response()
    message.ParseFromString(data)
    return message
