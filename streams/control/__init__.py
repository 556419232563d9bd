"""Redis, the control and serving plane: live targets, their audit trail, the cluster board
and whether Redis answers."""
