"""Great Expectations gates on every layer: rules (rules.py), the suites per table (suites.py), the gate run (gate.py)."""
