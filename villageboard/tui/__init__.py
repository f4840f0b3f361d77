"""The clerk's terminal app (Textual). The only package that imports Textual."""
