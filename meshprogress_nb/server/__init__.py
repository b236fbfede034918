"""The server side: the progress hub as a Jupyter server extension (:mod:`.app`) or a JupyterHub service.

Workers post callbacks here, notebooks read and control jobs through the REST API, and browsers follow them over
the ActionCable WebSocket; state lives in a backend (Redis, or the embedded SQLite store).
"""
