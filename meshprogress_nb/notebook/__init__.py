"""The notebook side: ``connect()`` for kernels and the progress widgets (front-end and kernel modes)."""
