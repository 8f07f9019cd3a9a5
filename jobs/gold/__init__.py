"""Gold: company-period facts, constant-panel trend cells, disclosure control, vintages."""
