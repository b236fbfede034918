"""Test support: real jupyter-server processes with the extension, and HTTP/cable clients for them."""
