"""Simulation objects of ISF as plain arrays and JSON, recognised by their attributes
(duck typing), so that zdb stores them without importing ISF or pickling them."""
