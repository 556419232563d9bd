"""The read side of either runtime: the `ReadView` protocol, window and staffing values,
the board, the Prometheus exposition and the Erlang C staffing mathematics."""
