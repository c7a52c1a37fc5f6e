"""The loopback hub serving dataset repositories too (``/datasets/...``, ``/api/datasets/...``).

``support.hub_server`` answers the model routes; the real hub serves a dataset
under the same routes with a ``datasets/`` prefix, so this handler strips the
prefix and lets the model handler answer, errors and gating included.
"""

from __future__ import annotations

from support.hub_server import HubServer, _Handler


class DatasetHandler(_Handler):
    def _route(self, *, head: bool) -> None:
        if self.path.startswith("/datasets/"):
            self.path = self.path[len("/datasets") :]
        elif self.path.startswith("/api/datasets/"):
            self.path = "/api/models/" + self.path[len("/api/datasets/") :]
        super()._route(head=head)


def serve_datasets(hub: HubServer) -> HubServer:
    """Make ``hub`` answer dataset routes (the handler class is looked up per request)."""
    hub._server.RequestHandlerClass = DatasetHandler
    return hub
