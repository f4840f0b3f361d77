"""NoticeDocument -> PDF poster, with fpdf2.

Import from the modules themselves (``pdf.paint``, ``pdf.batch`` …); this package
module imports nothing, so importing it loads neither fpdf2 nor the other parts.
"""
