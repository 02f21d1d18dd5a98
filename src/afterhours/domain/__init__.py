"""The pure core: tickets, actions and the planner. No I/O, no clock."""
