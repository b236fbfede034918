"""``python -m meshprogress_nb.service``: the progress hub as a JupyterHub service (see :mod:`.server.service`).

``--processes=N`` runs N service processes on the service's port (:mod:`.server.processes`).
"""

from .server.processes import run

if __name__ == "__main__":
    run()
