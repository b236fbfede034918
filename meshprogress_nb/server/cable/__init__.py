"""The ActionCable wire protocol over Jupyter's WebSocket: frames, channels and the connection handler."""
