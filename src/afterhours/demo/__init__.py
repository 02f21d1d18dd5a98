"""`afterhours demo`: one accelerated night on the twins, and the report of what was done."""
