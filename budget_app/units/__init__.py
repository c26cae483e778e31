"""Unit costs and lump sums declared instead of invoices (CPR 53(1)(b)-(c))."""
