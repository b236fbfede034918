"""``python -m meshprogress_nb.service``: the progress hub as a JupyterHub service (see :mod:`.server.service`)."""

from .server.service import main

if __name__ == "__main__":
    main()
