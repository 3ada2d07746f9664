"""ISF's simulation objects (a Cell, a ReducedLdaModel) recognised by their attributes
(duck typing), so that zdb stores them as arrays and JSON without importing ISF or
pickling them, and the plain classes zdb gives some of them back as, with the methods
that need nothing else (no ISF, no training data)."""
