"""Under the service, the cable's per-user caps count per hub user: alice's connections through her own server and
straight to the service share one allowance (the service sees each as alice), and bob's allowance is his own."""

from __future__ import annotations

import pytest
from hub_clients import WAIT, Deployment, connect, open_cable

from meshprogress_nb.server.config import MeshProgress
from support.clients import Cable
from support.waiting import wait_until

pytestmark = pytest.mark.timeout(240)


async def test_cable_connections_count_per_hub_user_across_her_server_and_the_service(deployment: Deployment) -> None:
    hub, tokens = deployment.hub, deployment.tokens
    most = MeshProgress().max_connections_per_user  # the documented config leaves the default
    hers = [deployment.cable_url(hub.user_url("alice")), deployment.cable_url(hub.service_url)]
    cables: list[Cable] = []
    try:
        for i in range(most):
            cables.append(await open_cable(hers[i % 2], tokens["alice"]))
        for url in hers:
            one_more = await connect(url, tokens["alice"])
            refusal = await one_more.next(timeout=WAIT)
            assert refusal == {"type": "disconnect", "reason": "too_many_connections", "reconnect": False}, url
            one_more.close()
        bobs = await open_cable(deployment.cable_url(hub.user_url("bob")), tokens["bob"])
        bobs.close()
    finally:
        for cable in cables:
            cable.close()

    async def reopened() -> bool:  # her allowance comes back as the service sees her connections close
        cable = await connect(hers[0], tokens["alice"])
        welcomed = await cable.next(timeout=WAIT) == {"type": "welcome"}
        cable.close()
        return welcomed

    await wait_until(reopened, bool, timeout=WAIT, every=0.2)
