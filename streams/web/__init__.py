"""HTTP surface of a running engine: /metrics, the board API and the live wallboard."""
