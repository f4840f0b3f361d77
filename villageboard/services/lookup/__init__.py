"""The phone desk's lookup index (电话解答): households found by what a caller says.

Import from the modules themselves (``lookup.index``, ``lookup.keys`` …); this package
module imports nothing, so importing one part never loads the others.
"""
